using System.Linq;
using System;
using System.Collections.Concurrent;
using System.Threading;
using System.Threading.Tasks;
using FlowMap.Session;
using Xunit;

namespace FlowMap.Tests.Session
{
    public sealed class ReconstructionSessionTests
    {
        /// <summary>A processor that records what reached it and takes a fixed time per frame.</summary>
        private sealed class RecordingProcessor : IFrameProcessor
        {
            public readonly ConcurrentQueue<Frame> Seen = new ConcurrentQueue<Frame>();
            public int DelayMs;
            public bool Disposed;
            public Exception? Throw;

            public FrameUpdate Process(Frame frame, CancellationToken token)
            {
                if (Throw != null) throw Throw;
                Seen.Enqueue(frame);
                if (DelayMs > 0) Thread.Sleep(DelayMs);
                return new FrameUpdate
                {
                    FrameIndex = frame.Index, TimestampSeconds = frame.TimestampSeconds, Pose = CameraPose.Identity,
                    StageMilliseconds = new System.Collections.Generic.Dictionary<string, double> { ["flow"] = frame.Index % 3, ["solve"] = 10 },
                };
            }

            public void Dispose() => Disposed = true;
        }

        [Fact]
        public void Rgba_and_bgra_frames_with_padded_rows_arrive_as_rgb()
        {
            var proc = new RecordingProcessor();
            using var s = new ReconstructionSession(proc);
            int w = 3, h = 2, stride = 16;
            var rgba = new byte[stride * h];
            for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) { int o = y * stride + 4 * x; rgba[o] = (byte)(10 * x); rgba[o + 1] = (byte)(100 + y); rgba[o + 2] = 7; rgba[o + 3] = 255; }
            s.PushFrame(rgba, w, h, stride, PixelFormat.Rgba32, 0.0);
            var bgra = (byte[])rgba.Clone();
            for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) { int o = y * stride + 4 * x; (bgra[o], bgra[o + 2]) = (bgra[o + 2], bgra[o]); }
            s.PushFrame(bgra, w, h, stride, PixelFormat.Bgra32, 0.033);
            s.Complete();
            Assert.True(s.Completion.Wait(TimeSpan.FromSeconds(10)));
            Assert.Equal(2, proc.Seen.Count);
            foreach (var f in proc.Seen)
                for (int y = 0; y < h; y++) for (int x = 0; x < w; x++)
                {
                    int i = 3 * (y * w + x);
                    Assert.Equal(new byte[] { (byte)(10 * x), (byte)(100 + y), 7 }, f.Image.Pixels[i..(i + 3)]);
                }
            Assert.True(s.TryGetLatest(out var latest));
            Assert.Equal(1, latest!.FrameIndex);
        }

        [Fact]
        public void Bottom_row_first_buffers_are_flipped_to_top_row_first()
        {
            var proc = new RecordingProcessor();
            using var s = new ReconstructionSession(proc);
            int w = 2, h = 3;
            var rgba = new byte[w * h * 4];
            for (int y = 0; y < h; y++) for (int x = 0; x < w; x++) rgba[4 * (y * w + x)] = (byte)(10 * y + x); // row y of the buffer
            s.PushFrame(rgba, w, h, w * 4, PixelFormat.Rgba32, 0.0, bottomRowFirst: true);
            s.Complete();
            Assert.True(s.Completion.Wait(TimeSpan.FromSeconds(10)));
            Assert.True(proc.Seen.TryDequeue(out var f));
            for (int y = 0; y < h; y++) for (int x = 0; x < w; x++)
                Assert.Equal((byte)(10 * (h - 1 - y) + x), f!.Image.Pixels[3 * (y * w + x)]);
        }

        [Fact]
        public void Stats_report_median_stage_times_and_a_lossless_session_drops_nothing()
        {
            var proc = new RecordingProcessor { DelayMs = 2 };
            using var s = new ReconstructionSession(proc, queueCapacity: 1, dropFrames: false);
            var px = new byte[4 * 4 * 3];
            for (int i = 0; i < 30; i++) s.PushFrame(new Frame(i, i / 30.0, new RgbImage(4, 4, px), $"{i:D6}.png"));
            s.Complete();
            Assert.True(s.Completion.Wait(TimeSpan.FromSeconds(30)));
            var st = s.Stats;
            Assert.Equal(0, st.Dropped);
            Assert.Equal(30, st.Processed);
            Assert.Equal(Enumerable.Range(0, 30), proc.Seen.Select(f => f.Index));
            Assert.Equal(1, st.StageMedianMilliseconds["flow"]); // values 0,1,2 repeating
            Assert.Equal(10, st.StageMedianMilliseconds["solve"]);
        }

        [Fact]
        public void A_slow_pipeline_drops_old_frames_counts_them_and_always_gets_the_newest()
        {
            var proc = new RecordingProcessor { DelayMs = 20 };
            using var s = new ReconstructionSession(proc, queueCapacity: 1);
            var px = new byte[4 * 4 * 3];
            for (int i = 0; i < 50; i++) s.PushFrame(px, 4, 4, 12, PixelFormat.Rgb24, i / 30.0);
            s.Complete();
            Assert.True(s.Completion.Wait(TimeSpan.FromSeconds(30)));
            var st = s.Stats;
            Assert.Equal(50, st.Pushed);
            Assert.Equal(50, st.Processed + st.Dropped);
            Assert.True(st.Dropped > 0);
            Assert.True(s.TryGetLatest(out var latest));
            Assert.Equal(49, latest!.FrameIndex);
        }

        [Fact]
        public void A_resolution_change_mid_stream_is_a_clear_error_and_loses_nothing_queued()
        {
            var proc = new RecordingProcessor();
            using var s = new ReconstructionSession(proc);
            s.PushFrame(new byte[4 * 4 * 3], 4, 4, 12, PixelFormat.Rgb24, 0);
            var e = Assert.Throws<ArgumentException>(() => s.PushFrame(new byte[5 * 4 * 3], 5, 4, 15, PixelFormat.Rgb24, 0.1));
            Assert.Contains("4x4", e.Message);
            s.Complete();
            Assert.True(s.Completion.Wait(TimeSpan.FromSeconds(10)));
            Assert.Single(proc.Seen);
        }

        [Fact]
        public void Bad_buffers_are_rejected_with_the_reason()
        {
            using var s = new ReconstructionSession(new RecordingProcessor());
            Assert.Contains("Stride", Assert.Throws<ArgumentException>(() => s.PushFrame(new byte[100], 10, 2, 20, PixelFormat.Rgba32, 0)).Message);
            Assert.Contains("needs", Assert.Throws<ArgumentException>(() => s.PushFrame(new byte[10], 10, 2, 40, PixelFormat.Rgba32, 0)).Message);
        }

        [Fact]
        public void A_pipeline_failure_is_reported_and_ends_the_session()
        {
            var proc = new RecordingProcessor { Throw = new InvalidOperationException("boom") };
            using var s = new ReconstructionSession(proc);
            Exception? seen = null;
            s.Failed += e => seen = e;
            s.PushFrame(new byte[12], 2, 2, 6, PixelFormat.Rgb24, 0);
            var ex = Assert.ThrowsAny<Exception>(() => s.Completion.Wait(TimeSpan.FromSeconds(10)));
            Assert.Contains("boom", ex.InnerException?.Message ?? ex.Message);
            Assert.Equal("boom", seen?.Message);
        }

        [Fact]
        public void Cancelling_the_token_stops_the_session_and_a_lossless_push_waiting_for_room()
        {
            using var cts = new CancellationTokenSource();
            var proc = new RecordingProcessor { DelayMs = 200 };
            using var s = new ReconstructionSession(proc, queueCapacity: 1, token: cts.Token, dropFrames: false);
            var px = new byte[12];
            s.PushFrame(new Frame(0, 0, new RgbImage(2, 2, px), "0.png"));
            s.PushFrame(new Frame(1, 0, new RgbImage(2, 2, px), "1.png"));
            var blocked = Task.Run(() => s.PushFrame(new Frame(2, 0, new RgbImage(2, 2, px), "2.png"))); // waits: queue full
            cts.CancelAfter(50);
            Assert.ThrowsAny<OperationCanceledException>(() => blocked.GetAwaiter().GetResult());
            Assert.ThrowsAny<Exception>(() => s.Completion.Wait(TimeSpan.FromSeconds(10)));
            Assert.True(s.Completion.IsCanceled);
        }

        [Fact]
        public void Dispose_stops_the_thread_and_disposes_the_pipeline()
        {
            var proc = new RecordingProcessor { DelayMs = 5 };
            var s = new ReconstructionSession(proc);
            for (int i = 0; i < 5; i++) s.PushFrame(new byte[12], 2, 2, 6, PixelFormat.Rgb24, i);
            s.Dispose();
            Assert.True(proc.Disposed);
            Assert.True(s.Completion.IsCompleted);
        }
    }
}
