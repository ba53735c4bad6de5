using System;
using System.Runtime.InteropServices;
using System.Threading;

namespace FlowMap.Viewer.Cli
{
    /// <summary>
    /// Ctrl-C (SIGINT) and SIGTERM as a cancellation token while a command runs: the first signal asks the work to stop at
    /// the next frame (the command then cleans up and says so); a second one ends the process at once.
    /// </summary>
    internal sealed class Interrupt : IDisposable
    {
        private readonly CancellationTokenSource _cts = new CancellationTokenSource();
        private readonly PosixSignalRegistration[] _registrations;
        private int _signals;

        public Interrupt()
        {
            _registrations = new[]
            {
                PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal),
                PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal),
            };
        }

        public CancellationToken Token => _cts.Token;
        public bool Requested => _cts.IsCancellationRequested;

        private void OnSignal(PosixSignalContext context)
        {
            if (Interlocked.Increment(ref _signals) > 1) return; // second signal: default action, the process ends
            context.Cancel = true;
            Console.Error.WriteLine($"\nflowmap: {context.Signal} received, stopping after the current frame (again to quit at once)...");
            _cts.Cancel();
        }

        public void Dispose()
        {
            foreach (var r in _registrations) r.Dispose();
            _cts.Dispose();
        }
    }
}
