using System;
using System.Collections.Generic;
using System.Threading;

namespace FlowMap.Session
{
    /// <summary>
    /// A bounded queue between a producer (camera/engine thread) and the pipeline thread in which the newest item wins:
    /// when full, the oldest waiting item is dropped and counted. Thread-safe.
    /// </summary>
    internal sealed class LatestFrameQueue<T> : IDisposable where T : class
    {
        private readonly Queue<T> _items = new Queue<T>();
        private readonly int _capacity;
        private readonly SemaphoreSlim _available = new SemaphoreSlim(0);
        private long _dropped, _enqueued;
        private bool _completed;

        /// <param name="capacity">Items that may wait (at least 1).</param>
        public LatestFrameQueue(int capacity)
        {
            if (capacity < 1) throw new ArgumentOutOfRangeException(nameof(capacity), "capacity must be at least 1");
            _capacity = capacity;
        }

        /// <summary>Items dropped because the consumer was behind.</summary>
        public long Dropped => Interlocked.Read(ref _dropped);
        public long Enqueued => Interlocked.Read(ref _enqueued);

        public int Count { get { lock (_items) return _items.Count; } }

        /// <summary>Adds an item; returns the item it displaced (dropped) or null.</summary>
        public T? Push(T item)
        {
            if (item == null) throw new ArgumentNullException(nameof(item));
            T? dropped = null;
            lock (_items)
            {
                if (_completed) throw new InvalidOperationException("The queue was completed; no more items are accepted.");
                if (_items.Count >= _capacity)
                {
                    dropped = _items.Dequeue();
                    Interlocked.Increment(ref _dropped);
                }
                _items.Enqueue(item);
                Interlocked.Increment(ref _enqueued);
            }
            if (dropped == null) _available.Release();
            return dropped;
        }

        /// <summary>
        /// Adds an item without dropping anything: waits while the queue is full (lossless replay of a recording, where
        /// every frame must reach the pipeline). Throws <see cref="OperationCanceledException"/> when cancelled.
        /// </summary>
        public void PushWaiting(T item, CancellationToken token)
        {
            if (item == null) throw new ArgumentNullException(nameof(item));
            lock (_items)
            {
                while (_items.Count >= _capacity && !_completed)
                {
                    token.ThrowIfCancellationRequested();
                    Monitor.Wait(_items, 20);
                }
                if (_completed) throw new InvalidOperationException("The queue was completed; no more items are accepted.");
                _items.Enqueue(item);
                Interlocked.Increment(ref _enqueued);
            }
            _available.Release();
        }

        /// <summary>Waits for the next item; returns null when the queue was completed and is empty.</summary>
        public T? Take(CancellationToken token)
        {
            while (true)
            {
                lock (_items)
                {
                    if (_completed && _items.Count == 0) return null;
                }
                _available.Wait(token);
                lock (_items)
                {
                    if (_items.Count > 0)
                    {
                        var item = _items.Dequeue();
                        Monitor.PulseAll(_items); // room for a waiting PushWaiting
                        return item;
                    }
                    if (_completed) return null;
                }
            }
        }

        /// <summary>No more items will be pushed; a waiting <see cref="Take"/> returns null once the queue is empty.</summary>
        public void Complete()
        {
            lock (_items) { _completed = true; Monitor.PulseAll(_items); }
            _available.Release();
        }

        public void Dispose() => _available.Dispose();
    }
}
