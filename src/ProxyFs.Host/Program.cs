using System.CommandLine;
using System.CommandLine.Help;
using System.Reflection;
using ProxyFs.Host.Cli;

namespace ProxyFs.Host;

public static class Program
{
    public static int Main(string[] args)
    {
        MountCommand.DetachIfAsked();
        if (MountHelper.IsMountHelperName(MountHelper.InvokedName()))
        {
            string[]? translated = MountHelper.Translate(args, out bool fake, out string error);
            if (translated is null)
            {
                Console.Error.WriteLine("mount.proxyfs: " + error);
                return ExitCodes.Usage;
            }
            if (fake)
            {
                return ExitCodes.Ok;
            }
            args = translated;
        }
        Command root = CreateRoot();
        return CommandLineConventions.Invoke(root, args);
    }

    /// <summary>
    /// The proxyfs command and its subcommands. It is named proxyfs whatever name the executable was started by: a
    /// RootCommand takes its name from argv[0], which in the NativeAOT executable started as mount.proxyfs is "mount",
    /// the name of a subcommand (the parser refuses two commands of one name). It has RootCommand's options.
    /// </summary>
    public static Command CreateRoot()
    {
        var root = new Command("proxyfs", "proxyfs: a POSIX filesystem stored in object storage, served over FUSE")
        {
            new HelpOption(),
            new VersionOption(),
        };
        root.Subcommands.Add(FormatCommand.Create());
        root.Subcommands.Add(MountCommand.Create());
        root.Subcommands.Add(UnmountCommand.Create());
        root.Subcommands.Add(StatusCommand.Create());
        root.Subcommands.Add(FsckCommand.Create());
        root.Subcommands.Add(GcCommand.Create());
        root.Subcommands.Add(DoctorCommand.Create());
        root.Subcommands.Add(VersionCommand());
        CommandLineConventions.Apply(root);
        return root;
    }

    private static Command VersionCommand()
    {
        var command = new Command("version", "Print the version");
        command.SetAction(_ =>
        {
            string version = typeof(Program).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";
            Console.WriteLine("proxyfs " + version);
            return ExitCodes.Ok;
        });
        return command;
    }
}
