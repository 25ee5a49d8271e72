using ProxyFs.Host.Cli;

namespace ProxyFs.Integration.Tests.Host;

public sealed class MountOptionsTests
{
    [Fact]
    public void Defaults_match_the_documentation()
    {
        MountOptions o = MountOptions.Parse([]);
        Assert.True(o.DefaultPermissions);
        Assert.False(o.AllowOther);
        Assert.False(o.ReadOnly);
        Assert.Equal(TimeSpan.FromSeconds(1), o.EntryTimeout);
        Assert.Equal(TimeSpan.FromSeconds(1), o.AttrTimeout);
        Assert.Equal(TimeSpan.FromSeconds(1), o.NegativeTimeout);
    }

    [Fact]
    public void Options_from_several_lists_combine()
    {
        MountOptions o = MountOptions.Parse(["allow_other,ro", "entry_timeout=2.5,readers=8", "nosuid,nodev,no_default_permissions,reader_handoff_ms=0"]);
        Assert.True(o.AllowOther);
        Assert.True(o.ReadOnly);
        Assert.Equal(TimeSpan.FromSeconds(2.5), o.EntryTimeout);
        Assert.Equal(8, o.ReaderThreads);
        Assert.Equal(0, o.ReaderHandoffMs);
        Assert.True(o.NoSuid);
        Assert.True(o.NoDev);
        Assert.False(o.DefaultPermissions);
        Assert.Equal(["allow_other", "ro", "entry_timeout=2.5", "readers=8", "nosuid", "nodev", "no_default_permissions", "reader_handoff_ms=0"], o.Raw);
    }

    [Fact]
    public void Tuning_options_parse()
    {
        MountOptions o = MountOptions.Parse(["max_flush_size=4MiB,max_flush_time=0.5,keep_checkpoints=3,metadata_cache=256MiB"]);
        Assert.Equal(4L << 20, o.MaxFlushSize);
        Assert.Equal(TimeSpan.FromSeconds(0.5), o.MaxFlushTime);
        Assert.Equal(3, o.KeepCheckpoints);
        Assert.Equal(256L << 20, o.MetadataCache);
        Assert.Null(MountOptions.Parse([]).MaxFlushSize);
    }

    [Theory]
    [InlineData("defaults,_netdev,nofail,noauto,x-systemd.automount,x-systemd.requires=network-online.target,rw,relatime")]
    [InlineData("user,users,owner,group,suid,dev,exec,async")]
    public void Fstab_options_for_mount_or_systemd_are_accepted(string list) => MountOptions.Parse([list]);

    [Theory]
    [InlineData("frobnicate", "unknown mount option 'frobnicate'")]
    [InlineData("readers=0", "'readers=0' needs a whole number from 1 to 64")]
    [InlineData("readers=x", "'readers=x' needs a whole number")]
    [InlineData("reader_handoff_ms=1001", "'reader_handoff_ms=1001' needs a whole number from 0 to 1000")]
    [InlineData("attr_timeout=-1", "'attr_timeout=-1' needs a number of seconds")]
    [InlineData("ro=1", "'ro=1' takes no value")]
    [InlineData("fsname=", "'fsname=' needs a value")]
    [InlineData("max_flush_size=1KiB", "'max_flush_size=1KiB' needs a size from 64 KiB to 1 GiB")]
    [InlineData("max_flush_time=0", "'max_flush_time=0' needs a number of seconds from 0.05")]
    [InlineData("keep_checkpoints=0", "'keep_checkpoints=0' needs a whole number from 1")]
    [InlineData("metadata_cache=lots", "'metadata_cache=lots' needs a size")]
    public void Bad_options_name_the_option(string list, string message)
    {
        var e = Assert.Throws<MountOptionException>(() => MountOptions.Parse([list]));
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Mount_helper_arguments_become_a_mount_command()
    {
        string[]? args = MountHelper.Translate(["file:///srv/v", "/mnt/v", "-o", "rw,allow_other", "-v"], out bool fake, out string error);
        Assert.NotNull(args);
        Assert.Equal(["mount", "file:///srv/v", "/mnt/v", "-o", "rw,allow_other"], args);
        Assert.False(fake);
        Assert.Equal("", error);
    }

    [Fact]
    public void Mount_helper_fake_and_sloppy_flags()
    {
        string[]? args = MountHelper.Translate(["memory://", "/mnt/v", "-sf", "-o", "ro,unheard_of", "-t", "fuse.proxyfs"], out bool fake, out _);
        Assert.True(fake);
        Assert.NotNull(args);
        Assert.Equal(["mount", "memory://", "/mnt/v", "-o", "ro"], args);
    }

    [Fact]
    public void Mount_helper_without_a_mount_point_is_usage_error()
    {
        Assert.Null(MountHelper.Translate(["memory://"], out _, out string error));
        Assert.Contains("usage", error, StringComparison.Ordinal);
    }
}
