using System.Linq;
using System;
using System.Collections.Generic;
using System.Threading;
using System.Threading.Tasks;
using FlowMap.Session;
using Xunit;

namespace FlowMap.Tests.Session
{
    public sealed class LatestFrameQueueTests
    {
        private sealed class Item { public int N; }

        [Fact]
        public void When_full_the_oldest_is_dropped_and_counted()
        {
            using var q = new LatestFrameQueue<Item>(2);
            Assert.Null(q.Push(new Item { N = 1 }));
            Assert.Null(q.Push(new Item { N = 2 }));
            Assert.Equal(1, q.Push(new Item { N = 3 })!.N);
            Assert.Equal(1, q.Dropped);
            Assert.Equal(2, q.Take(CancellationToken.None)!.N);
            Assert.Equal(3, q.Take(CancellationToken.None)!.N);
            q.Complete();
            Assert.Null(q.Take(CancellationToken.None));
        }

        [Fact]
        public void A_fast_producer_and_slow_consumer_lose_only_counted_items_in_order()
        {
            using var q = new LatestFrameQueue<Item>(3);
            var got = new List<int>();
            var consumer = Task.Run(() =>
            {
                Item? it;
                while ((it = q.Take(CancellationToken.None)) != null) { got.Add(it.N); Thread.Sleep(1); }
            });
            for (int i = 0; i < 2000; i++) q.Push(new Item { N = i });
            q.Complete();
            Assert.True(consumer.Wait(TimeSpan.FromSeconds(30)));
            Assert.Equal(2000, got.Count + q.Dropped);
            for (int i = 1; i < got.Count; i++) Assert.True(got[i] > got[i - 1]);
            Assert.Equal(1999, got[^1]); // the newest always survives
        }

        [Fact]
        public void PushWaiting_never_drops_and_keeps_order()
        {
            using var q = new LatestFrameQueue<Item>(2);
            var got = new List<int>();
            var consumer = Task.Run(() =>
            {
                Item? it;
                while ((it = q.Take(CancellationToken.None)) != null) { got.Add(it.N); Thread.Sleep(1); }
            });
            for (int i = 0; i < 300; i++) q.PushWaiting(new Item { N = i }, CancellationToken.None);
            q.Complete();
            Assert.True(consumer.Wait(TimeSpan.FromSeconds(30)));
            Assert.Equal(0, q.Dropped);
            Assert.Equal(Enumerable.Range(0, 300), got);
        }

        [Fact]
        public void PushWaiting_on_a_full_queue_stops_on_cancellation()
        {
            using var q = new LatestFrameQueue<Item>(1);
            q.Push(new Item { N = 0 });
            using var cts = new CancellationTokenSource(50);
            Assert.ThrowsAny<OperationCanceledException>(() => q.PushWaiting(new Item { N = 1 }, cts.Token));
        }

        [Fact]
        public void Take_stops_on_cancellation()
        {
            using var q = new LatestFrameQueue<Item>(1);
            using var cts = new CancellationTokenSource(50);
            Assert.ThrowsAny<OperationCanceledException>(() => q.Take(cts.Token));
        }
    }
}
