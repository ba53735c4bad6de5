using System;
using System.Diagnostics;
using System.Runtime.InteropServices;

namespace FlowMap.Viewer.Cli
{
    /// <summary>
    /// Where the process's memory is, for the long-run memory bench: resident set (RSS), the managed heap (GC), and the
    /// native C heap as glibc's malloc sees it (mallinfo2: bytes handed out and not freed, bytes free but kept in the
    /// arenas, bytes in separate mmaps). A native leak grows "in use"; allocator high water grows "free in arenas" and
    /// RSS while "in use" stays flat, and <see cref="Trim"/> (malloc_trim) gives part of it back. Native figures are
    /// null where glibc is absent (other platforms, musl).
    /// </summary>
    internal static class ProcessMemory
    {
        [StructLayout(LayoutKind.Sequential)]
        private struct MallInfo2
        {
            public nuint Arena, Ordblks, Smblks, Hblks, Hblkhd, Usmblks, Fsmblks, Uordblks, Fordblks, Keepcost;
        }

        [DllImport("libc", EntryPoint = "mallinfo2")] private static extern MallInfo2 mallinfo2();
        [DllImport("libc", EntryPoint = "malloc_trim")] private static extern int malloc_trim(nuint pad);

        /// <summary>One reading. Bytes.</summary>
        /// <param name="ManagedHeap">The GC heap's size after the last collection, free fragments inside it included.</param>
        /// <param name="ManagedLive">That heap without its fragments: the bytes of objects that survived the last collection.</param>
        /// <param name="ManagedCommitted">Memory the GC has committed (its heap, fragments, and free regions it keeps).</param>
        public readonly record struct Reading(long Rss, long ManagedHeap, long ManagedLive, long ManagedCommitted, long? NativeInUse, long? NativeFree, long? NativeMapped);

        public static Reading Read()
        {
            long rss;
            using (var p = Process.GetCurrentProcess()) { p.Refresh(); rss = p.WorkingSet64; }
            var gc = GC.GetGCMemoryInfo();
            long? inUse = null, free = null, mapped = null;
            if (OperatingSystem.IsLinux())
            {
                try
                {
                    var m = mallinfo2();
                    // uordblks: bytes in use in the arenas' chunks; hblkhd: bytes in chunks served by mmap (in use too).
                    inUse = (long)m.Uordblks + (long)m.Hblkhd; free = (long)m.Fordblks; mapped = (long)m.Hblkhd;
                }
                catch (Exception e) when (e is DllNotFoundException || e is EntryPointNotFoundException) { }
            }
            return new Reading(rss, gc.HeapSizeBytes, gc.HeapSizeBytes - gc.FragmentedBytes, gc.TotalCommittedBytes, inUse, free, mapped);
        }

        /// <summary>Full blocking GC, then malloc_trim(0) (gives free arena pages back to the system) where glibc has it.</summary>
        public static void Settle(bool trim)
        {
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
            GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
            if (!trim || !OperatingSystem.IsLinux()) return;
            try { malloc_trim(0); }
            catch (Exception e) when (e is DllNotFoundException || e is EntryPointNotFoundException) { }
        }

        public static double Mb(long bytes) => Math.Round(bytes / 1048576.0, 1);
        public static double? Mb(long? bytes) => bytes.HasValue ? Mb(bytes.Value) : null;
    }
}
