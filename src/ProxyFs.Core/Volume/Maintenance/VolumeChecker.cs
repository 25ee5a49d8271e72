using System.Buffers.Binary;
using System.Text;
using ProxyFs.Core.Checksums;
using ProxyFs.Core.FileSystem;
using ProxyFs.Core.HeadHunter;
using ProxyFs.Core.LogSegments;
using ProxyFs.ObjectStore;
using SegmentFormat = ProxyFs.Core.LogSegments.SegmentFormat;

namespace ProxyFs.Core.Volume.Maintenance;

/// <summary>
/// `proxyfs fsck`: an offline check of every reference of a volume. Metadata: every record of every kept generation
/// reachable and checksummed, every metadata segment whole. Data: every extent in an existing segment and inside its
/// data, every segment's checksums, the live bytes of each segment ('S'/'P') against a recount of the extents.
/// Namespace: entries by name and by cookie agree, no entry points at a missing inode, nlink equals the entries
/// (directories: 2 + subdirectories), every inode reachable from the root, directories' parent fields. Store: objects
/// nothing references. Each problem says whether a safe repair exists; <see cref="FsckOptions.Repair"/> applies them
/// all in one checkpoint of the volume opened for writing, then deletes orphan objects.
/// </summary>
public static class VolumeChecker
{
    public static async Task<FsckReport> CheckAsync(IObjectStore store, FsckOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentNullException.ThrowIfNull(options);
        VolumeDescriptor descriptor = await VolumeCore.ReadDescriptorAsync(store, cancellationToken).ConfigureAwait(false);
        RootPointer root = await new RootPointerStore(store).ReadAsync(cancellationToken).ConfigureAwait(false);
        if (!root.CleanUnmount && !options.Force)
        {
            throw new VolumeInUseException(
                $"{store.Location} is mounted, or its last mount ended without unmounting (root pointer generation {root.Generation} has no clean-unmount mark): " +
                "unmount it (or mount and unmount it once, which recovers it) and run fsck again; --force checks it anyway");
        }
        var report = new FsckReport { Generations = 1 + root.History.Count };
        var check = new Check(store, descriptor, root, options, report);
        await check.RunAsync(cancellationToken).ConfigureAwait(false);
        List<FsckProblem> repairable = [.. report.Problems.Where(p => p.Repairable)];
        // Repairs open the volume for writing: not when its newest tree cannot be read whole.
        if (options.Repair && repairable.Count > 0 && report.TreeReadable)
        {
            await FsckRepair.ApplyAsync(store, repairable, cancellationToken).ConfigureAwait(false);
        }
        return report;
    }

    private sealed class Inode(VolumeInodeRecord record)
    {
        public VolumeInodeRecord Record = record;
        public bool IsDirectory => (Record.Mode & ModeBits.S_IFMT) == ModeBits.S_IFDIR;
        public uint Links;
        public uint Subdirectories;
        public ulong? ParentSeen;
        public bool Reachable;
        public bool OrphanMark;
    }

    private readonly record struct Entry(ulong Dir, byte[] Name, ulong Cookie, ulong Ino, byte Type);

    private sealed class Check(IObjectStore store, VolumeDescriptor descriptor, RootPointer root, FsckOptions options, FsckReport report)
    {
        private readonly Dictionary<ulong, Inode> _inodes = [];
        private readonly List<Entry> _byName = [];
        private readonly Dictionary<(ulong Dir, ulong Cookie), (ulong Ino, byte Type, byte[] Name)> _byCookie = [];
        private readonly Dictionary<ulong, List<(ulong Offset, ExtentValue Value)>> _extents = [];
        private readonly Dictionary<ulong, SegmentUsage> _usage = [];
        private readonly Dictionary<ulong, PendingDeletion> _pending = [];
        private readonly HashSet<ulong> _orphanMarks = [];
        private readonly List<byte[]> _xattrKeys = [];
        private Dictionary<ulong, ObjectInfo> _data = [];
        private Dictionary<ulong, ObjectInfo> _meta = [];

        private void Error(string message, Action<FsckRepair>? repair = null) => report.Problems.Add(new FsckProblem(FsckSeverity.Error, message, repair));

        private void Warn(string message, Action<FsckRepair>? repair = null) => report.Problems.Add(new FsckProblem(FsckSeverity.Warning, message, repair));

        private void Progress(string phase, long done, long total) => options.Progress?.Report(new FsckProgress(phase, done, total));

        public async Task RunAsync(CancellationToken cancellationToken)
        {
            _data = await VolumeReclaimer.ListAsync(store, VolumeLayout.DataSegments, cancellationToken).ConfigureAwait(false);
            _meta = await VolumeReclaimer.ListAsync(store, VolumeLayout.MetadataSegments, cancellationToken).ConfigureAwait(false);
            report.DataSegments = _data.Count;
            report.MetadataSegments = _meta.Count;
            await foreach (ObjectInfo o in store.ListAllAsync("", cancellationToken: cancellationToken).ConfigureAwait(false))
            {
                bool known = o.Key is VolumeLayout.DescriptorKey or VolumeLayout.RootPointerKey
                    || VolumeLayout.DataSegments.TryParse(o.Key, out _) || VolumeLayout.MetadataSegments.TryParse(o.Key, out _);
                if (!known)
                {
                    Warn($"object '{o.Key}' ({o.Size} bytes) is not part of a volume (left alone)");
                }
            }

            // Metadata: every kept generation, each record once.
            var pages = new WholeSegmentPageSource(store);
            var walker = new TreeWalker(pages);
            long read = 0;
            walker.WalkKept(root, () =>
            {
                if (++read % 256 == 0)
                {
                    Progress("metadata", read, 0);
                }
            });
            report.TreeRecords = walker.Records;
            foreach ((ulong nonce, string why) in pages.BadSegments)
            {
                Error(why);
            }
            foreach (string e in walker.Errors)
            {
                Error(e);
            }
            foreach ((ulong nonce, ObjectInfo o) in _meta)
            {
                if (!walker.BytesBySegment.ContainsKey(nonce))
                {
                    Orphan(o, "metadata segment no kept checkpoint generation reaches");
                }
            }
            if (walker.Errors.Count > 0)
            {
                report.TreeReadable = false;
                Error("the namespace, extents and live counts were not checked: the tree cannot be read whole (no repair can rebuild lost pages)");
                return;
            }

            // Every record of the newest generation.
            using (HeadHunterTree tree = root.TreeRoot.IsNone
                ? HeadHunterTree.Create(pages, new HeadHunterOptions { PageSize = descriptor.PageSize })
                : HeadHunterTree.Open(pages, root.TreeRoot, new HeadHunterOptions { PageSize = descriptor.PageSize }))
            {
                long records = 0;
                tree.Scan([], (k, v) =>
                {
                    Collect(k, v);
                    if (++records % 4096 == 0)
                    {
                        Progress("records", records, 0);
                    }
                    return true;
                });
            }
            CheckNamespace();
            Dictionary<ulong, long> recount = CheckExtents();
            await CheckSegmentsAsync(recount, cancellationToken).ConfigureAwait(false);
        }

        private void Collect(ReadOnlySpan<byte> key, ReadOnlySpan<byte> value)
        {
            try
            {
                switch (key[0])
                {
                    case VolumeKeys.Inode:
                        ulong ino = VolumeKeys.FirstNumber(key);
                        _inodes[ino] = new Inode(VolumeInodeRecord.Decode(value, ino));
                        break;
                    case VolumeKeys.DirentByName:
                        (ulong cookie, ulong target, byte type) = DirentValues.DecodeByName(value);
                        _byName.Add(new Entry(VolumeKeys.FirstNumber(key), VolumeKeys.NameOf(key).ToArray(), cookie, target, type));
                        break;
                    case VolumeKeys.DirentByCookie:
                        (ulong i, byte t) = DirentValues.DecodeByCookie(value, out ReadOnlySpan<byte> name);
                        _byCookie[(VolumeKeys.FirstNumber(key), VolumeKeys.SecondNumber(key))] = (i, t, name.ToArray());
                        break;
                    case VolumeKeys.Extent:
                        ulong owner = VolumeKeys.FirstNumber(key);
                        if (!_extents.TryGetValue(owner, out List<(ulong, ExtentValue)>? list))
                        {
                            _extents[owner] = list = [];
                        }
                        list.Add((VolumeKeys.SecondNumber(key), ExtentValue.Decode(value)));
                        break;
                    case VolumeKeys.Xattr:
                        _xattrKeys.Add(key.ToArray());
                        break;
                    case VolumeKeys.SegmentUsage:
                        _usage[VolumeKeys.FirstNumber(key)] = SegmentUsage.Decode(value);
                        break;
                    case VolumeKeys.PendingDeletion:
                        _pending[VolumeKeys.FirstNumber(key)] = PendingDeletion.Decode(value);
                        break;
                    case VolumeKeys.Orphan:
                        _orphanMarks.Add(VolumeKeys.FirstNumber(key));
                        break;
                    default:
                        Error($"record of unknown kind 0x{key[0]:x2} ({Convert.ToHexString(key)})");
                        break;
                }
            }
            catch (VolumeFormatException e)
            {
                Error($"record {Convert.ToHexString(key)}: {e.Message}");
            }
        }

        private static string Name(byte[] name) => Encoding.UTF8.GetString(name);

        private void CheckNamespace()
        {
            report.Inodes = _inodes.Count;
            report.DirectoryEntries = _byName.Count;
            foreach (ulong ino in _orphanMarks)
            {
                if (_inodes.TryGetValue(ino, out Inode? marked))
                {
                    marked.OrphanMark = true;
                }
            }
            var children = new Dictionary<ulong, List<ulong>>();
            foreach (Entry e in _byName)
            {
                string where = $"entry '{Name(e.Name)}' of directory {e.Dir}";
                byte[] nameKey = Key(VolumeKeys.DirentByName, e.Dir, e.Name);
                byte[] cookieKey = CookieKey(e.Dir, e.Cookie);
                if (!_inodes.TryGetValue(e.Dir, out Inode? dir) || !dir.IsDirectory)
                {
                    Error($"{where}: directory {e.Dir} does not exist", r => DeleteKeys(r, nameKey, cookieKey));
                    continue;
                }
                if (!_inodes.TryGetValue(e.Ino, out Inode? target))
                {
                    Error($"{where} points at inode {e.Ino}, which does not exist", r => DeleteKeys(r, nameKey, cookieKey));
                    continue;
                }
                if (!_byCookie.TryGetValue((e.Dir, e.Cookie), out var byCookie) || byCookie.Ino != e.Ino || !byCookie.Name.AsSpan().SequenceEqual(e.Name))
                {
                    Error($"{where}: no matching readdir record at cookie {e.Cookie}", r => PutCookie(r, e));
                }
                byte type = (byte)((target.Record.Mode & ModeBits.S_IFMT) >> 12);
                if (e.Type != type)
                {
                    Error($"{where}: type {e.Type} but inode {e.Ino} has type {type}", r =>
                    {
                        PutByName(r, e with { Type = type });
                        PutCookie(r, e with { Type = type });
                    });
                }
                if (target.IsDirectory)
                {
                    dir.Subdirectories++;
                    if (target.ParentSeen is not null)
                    {
                        Error($"directory {e.Ino} has a second entry ('{Name(e.Name)}' in {e.Dir})");
                    }
                    target.ParentSeen = e.Dir;
                }
                target.Links++;
                if (!children.TryGetValue(e.Dir, out List<ulong>? list))
                {
                    children[e.Dir] = list = [];
                }
                list.Add(e.Ino);
            }
            var names = _byName.Select(e => (e.Dir, e.Cookie)).ToHashSet();
            foreach (((ulong dir, ulong cookie), (ulong ino, _, byte[] name)) in _byCookie)
            {
                if (!names.Contains((dir, cookie)))
                {
                    byte[] key = CookieKey(dir, cookie);
                    Error($"readdir record {cookie} of directory {dir} ('{Name(name)}' → {ino}) has no entry by name", r => DeleteKeys(r, key));
                }
            }

            // Reachability from the root.
            if (!_inodes.TryGetValue(IFileSystem.RootIno, out Inode? rootDir) || !rootDir.IsDirectory)
            {
                Error($"the root directory (inode {IFileSystem.RootIno}) is missing");
                return;
            }
            var queue = new Queue<ulong>([IFileSystem.RootIno]);
            rootDir.Reachable = true;
            while (queue.TryDequeue(out ulong ino))
            {
                foreach (ulong child in children.GetValueOrDefault(ino) ?? [])
                {
                    Inode c = _inodes[child];
                    if (!c.Reachable)
                    {
                        c.Reachable = true;
                        if (c.IsDirectory)
                        {
                            queue.Enqueue(child);
                        }
                    }
                }
            }
            foreach ((ulong ino, Inode inode) in _inodes.OrderBy(p => p.Key))
            {
                uint expected = inode.IsDirectory ? 2 + inode.Subdirectories : inode.Links;
                if (!inode.Reachable)
                {
                    if (inode.OrphanMark && inode.Record.Nlink == 0)
                    {
                        continue; // unlinked while open: freed by the next mount
                    }
                    Error($"inode {ino} ({Kind(inode)}, nlink {inode.Record.Nlink}) is not reachable from the root: marked unlinked, the next mount frees it",
                        r => MarkOrphan(r, ino, inode.Record));
                    continue;
                }
                if (inode.IsDirectory && ino != IFileSystem.RootIno && inode.Record.Parent != inode.ParentSeen)
                {
                    ulong parent = inode.ParentSeen!.Value;
                    Error($"directory {ino}: parent field {inode.Record.Parent}, but its entry is in directory {parent}",
                        r => Rewrite(r, ino, inode.Record with { Parent = parent }));
                }
                if (inode.Record.Nlink != expected)
                {
                    Error($"inode {ino} ({Kind(inode)}): nlink {inode.Record.Nlink}, but {expected} links found",
                        r => Rewrite(r, ino, inode.Record with { Nlink = expected }));
                }
                if (inode.OrphanMark)
                {
                    byte[] mark = Key(VolumeKeys.Orphan, ino, []);
                    Error($"inode {ino} is reachable but marked unlinked (the next mount would free it)", r => DeleteKeys(r, mark));
                }
            }
            foreach (ulong ino in _orphanMarks.Where(i => !_inodes.ContainsKey(i)))
            {
                byte[] mark = Key(VolumeKeys.Orphan, ino, []);
                Error($"unlinked-inode mark of inode {ino}, which does not exist", r => DeleteKeys(r, mark));
            }
            foreach (byte[] key in _xattrKeys.Where(k => !_inodes.ContainsKey(VolumeKeys.FirstNumber(k))))
            {
                Error($"extended attribute '{Name(VolumeKeys.NameOf(key).ToArray())}' of inode {VolumeKeys.FirstNumber(key)}, which does not exist", r => DeleteKeys(r, key));
            }
        }

        private static string Kind(Inode inode) => (inode.Record.Mode & ModeBits.S_IFMT) switch
        {
            ModeBits.S_IFDIR => "directory",
            ModeBits.S_IFREG => "file",
            ModeBits.S_IFLNK => "symlink",
            _ => "special file",
        };

        /// <summary>Checks every extent against its segment listing and the others of its file; returns the live bytes per segment.</summary>
        private Dictionary<ulong, long> CheckExtents()
        {
            var recount = new Dictionary<ulong, long>();
            foreach ((ulong ino, List<(ulong Offset, ExtentValue Value)> list) in _extents)
            {
                report.Extents += list.Count;
                if (!_inodes.ContainsKey(ino))
                {
                    byte[][] keys = [.. list.Select(e => ExtentKey(ino, e.Offset))];
                    Error($"{list.Count} extents of inode {ino}, which does not exist", r => DeleteKeys(r, keys));
                    // Repaired, they no longer count: the live counts are checked against what remains.
                    if (options.Repair)
                    {
                        continue;
                    }
                }
                ulong end = 0;
                foreach ((ulong offset, ExtentValue v) in list)
                {
                    if (offset < end)
                    {
                        Error($"inode {ino}: extent at {offset} overlaps the one before it (which ends at {end})");
                    }
                    end = Math.Max(end, offset + v.Length);
                    if (v.Kind != ExtentKind.Data)
                    {
                        continue;
                    }
                    recount[v.Nonce] = recount.GetValueOrDefault(v.Nonce) + (long)v.Length;
                }
            }
            return recount;
        }

        private async Task CheckSegmentsAsync(Dictionary<ulong, long> recount, CancellationToken cancellationToken)
        {
            uint volumeIdCrc = Crc32C.Compute(descriptor.VolumeIdBytes);
            var dataLength = new Dictionary<ulong, long>();
            long done = 0;
            foreach ((ulong nonce, ObjectInfo o) in _data.OrderBy(p => p.Key))
            {
                cancellationToken.ThrowIfCancellationRequested();
                Progress("segments", ++done, _data.Count);
                bool referenced = recount.ContainsKey(nonce) || _usage.ContainsKey(nonce) || _pending.ContainsKey(nonce);
                if (!referenced)
                {
                    Orphan(o, "data segment no extent or record refers to");
                    continue;
                }
                string? bad = await CheckDataSegmentAsync(o, nonce, volumeIdCrc, cancellationToken).ConfigureAwait(false);
                if (bad is not null)
                {
                    Error($"data segment {o.Key}: {bad}");
                    continue;
                }
                dataLength[nonce] = _lastDataLength;
            }
            foreach ((ulong ino, List<(ulong Offset, ExtentValue Value)> list) in _extents)
            {
                foreach ((ulong offset, ExtentValue v) in list.Where(e => e.Value.Kind == ExtentKind.Data))
                {
                    if (!_data.ContainsKey(v.Nonce))
                    {
                        Error($"inode {ino}: extent at {offset} ({v.Length} bytes) is in data segment {VolumeLayout.DataSegments.KeyOf(v.Nonce)}, which is missing (its data is lost)");
                    }
                    else if (dataLength.TryGetValue(v.Nonce, out long length) && (long)(v.SegmentOffset + v.Length) > length)
                    {
                        Error($"inode {ino}: extent at {offset} reaches byte {v.SegmentOffset + v.Length} of data segment {v.Nonce:x16}, which holds {length}");
                    }
                }
            }
            // Live bytes: the 'S' and 'P' records against the recount.
            foreach (ulong nonce in recount.Keys.Union(_usage.Keys).Union(_pending.Keys).Order())
            {
                long counted = recount.GetValueOrDefault(nonce);
                bool isPending = _pending.TryGetValue(nonce, out PendingDeletion p);
                long recorded = _usage.TryGetValue(nonce, out SegmentUsage u) ? (long)u.LiveBytes : 0;
                ulong dataBytes = Math.Max(u.DataBytes, p.DataBytes);
                if (isPending && _usage.ContainsKey(nonce))
                {
                    Error($"data segment {nonce:x16} has both a live count and a pending deletion", r => SetUsage(r, nonce, counted, dataBytes));
                }
                else if (counted != recorded || (counted > 0 && isPending))
                {
                    string was = isPending ? "is pending deletion" : $"counts {recorded} live bytes";
                    Error($"data segment {nonce:x16} {was}, but extents reference {counted} of its bytes", r => SetUsage(r, nonce, counted, dataBytes));
                }
            }
        }

        private long _lastDataLength;

        /// <summary>Checks footer (and, with CheckData, header and every block); returns what is wrong, or null.</summary>
        private async Task<string?> CheckDataSegmentAsync(ObjectInfo o, ulong nonce, uint volumeIdCrc, CancellationToken cancellationToken)
        {
            try
            {
                byte[] bytes = options.CheckData
                    ? await store.GetBytesAsync(o.Key, default, cancellationToken).ConfigureAwait(false)
                    : await store.GetBytesAsync(o.Key, ByteRange.Suffix((int)Math.Min(o.Size, 1 << 20)), cancellationToken).ConfigureAwait(false);
                SegmentFooter footer = options.CheckData
                    ? SegmentFormat.Verify(bytes, nonce, descriptor.VolumeIdBytes)
                    : SegmentFormat.VerifyFooter(bytes, o.Size, nonce, volumeIdCrc);
                _lastDataLength = footer.DataLength;
                return null;
            }
            catch (Exception e) when (e is FormatException or ArgumentException)
            {
                return e.Message;
            }
            catch (ObjectStoreException e) when (e.Kind == ObjectStoreErrorKind.NotFound)
            {
                return "disappeared while being checked";
            }
        }

        private void Orphan(ObjectInfo o, string what)
        {
            TimeSpan age = DateTimeOffset.UtcNow - o.LastModified;
            if (age < options.Grace)
            {
                Warn($"{o.Key} ({o.Size} bytes): {what}, written {age.TotalSeconds:0} s ago (left: younger than the grace period)");
                return;
            }
            // Normal between two gc passes (superseded checkpoints, a crashed mount's uploads): space, not damage.
            Warn($"{o.Key} ({o.Size} bytes): {what} (reclaimable: proxyfs gc or fsck --repair deletes it)", r => r.DeleteObjects.Add(o.Key));
        }

        // ---- repairs ----

        private static byte[] Key(byte kind, ulong number, ReadOnlySpan<byte> name)
        {
            byte[] key = new byte[9 + name.Length];
            key[0] = kind;
            BinaryPrimitives.WriteUInt64BigEndian(key.AsSpan(1), number);
            name.CopyTo(key.AsSpan(9));
            return key;
        }

        private static byte[] CookieKey(ulong dir, ulong cookie)
        {
            byte[] key = new byte[17];
            VolumeKeys.OfDirentByCookie(key, dir, cookie);
            return key;
        }

        private static byte[] ExtentKey(ulong ino, ulong offset)
        {
            byte[] key = new byte[17];
            VolumeKeys.OfExtent(key, ino, offset);
            return key;
        }

        private static void DeleteKeys(FsckRepair r, params byte[][] keys)
        {
            foreach (byte[] k in keys)
            {
                r.Tree.Delete(k);
            }
        }

        private static void PutByName(FsckRepair r, Entry e)
        {
            byte[] value = new byte[DirentValues.ByNameLength];
            DirentValues.EncodeByName(value, e.Cookie, e.Ino, e.Type);
            r.Tree.Put(Key(VolumeKeys.DirentByName, e.Dir, e.Name), value);
        }

        private static void PutCookie(FsckRepair r, Entry e)
        {
            byte[] value = new byte[9 + e.Name.Length];
            DirentValues.EncodeByCookie(value, e.Ino, e.Type, e.Name);
            r.Tree.Put(CookieKey(e.Dir, e.Cookie), value);
        }

        private static void Rewrite(FsckRepair r, ulong ino, VolumeInodeRecord record)
        {
            byte[] value = new byte[record.EncodedLength];
            record.Encode(value);
            r.Tree.Put(Key(VolumeKeys.Inode, ino, []), value);
        }

        private static void MarkOrphan(FsckRepair r, ulong ino, VolumeInodeRecord record)
        {
            Rewrite(r, ino, record with { Nlink = 0 });
            r.Tree.Put(Key(VolumeKeys.Orphan, ino, []), []);
        }

        private void SetUsage(FsckRepair r, ulong nonce, long live, ulong dataBytes)
        {
            r.Tree.Delete(Key(VolumeKeys.SegmentUsage, nonce, []));
            r.Tree.Delete(Key(VolumeKeys.PendingDeletion, nonce, []));
            if (live > 0)
            {
                byte[] value = new byte[SegmentUsage.EncodedLength];
                new SegmentUsage((ulong)live, dataBytes).Encode(value);
                r.Tree.Put(Key(VolumeKeys.SegmentUsage, nonce, []), value);
            }
            else
            {
                // Dead now; counted from this repair's root on (the root the repair opens at is the newest).
                SegmentLiveness.MarkDead(r.Tree, nonce, dataBytes, root.TreeRoot.SegmentNonce, VolumeReclaimer.Nanoseconds(TimeProvider.System));
            }
        }
    }
}
