using System.Runtime.CompilerServices;

namespace FlowMap.Tests.Support
{
    /// <summary>
    /// The test process is a host like the `flowmap` executable: it hands the library the options its environment asks
    /// for (FLOWMAP_DEVICE, FLOWMAP_VALIDATION, FLOWMAP_FORCE_STAGING, ...) before any test runs.
    /// </summary>
    internal static class HostSetup
    {
        [ModuleInitializer]
        internal static void Apply() => FlowMap.Viewer.Cli.HostEnvironment.Apply();
    }
}
