using System.IO;
using System.Text.RegularExpressions;
using Xunit;

namespace FlowMap.Tests.Issues
{
    /// <summary>
    /// Found closing issue 12's first-run work: the Unity component created its session in OnEnable on the main thread, and
    /// creating a session builds and runs its GPU kernels once (0.5 s with the driver's cache warm, 2.3 s on a machine's
    /// first run on lavapipe), so the app's frame lasted that long. The component now creates it with Task.Run, takes it in
    /// Update (its events hooked there), says when it takes frames (IsReady), and releases a session that finishes starting
    /// after the component was disabled. Unity compiles the component, so this reads its source as shipped (the tarball test,
    /// Engine/UnityPackageTests.cs, checks the same file is in the package).
    /// </summary>
    public sealed class UnityComponentStartedOnTheMainThread
    {
        private static string Read(params string[] parts) =>
            File.ReadAllText(Path.Combine(FlowMap.Viewer.Cli.PackCommand.RepoRoot(), "FlowMap.Runtime", "Engine", "Unity", Path.Combine(parts)));

        [Fact]
        public void The_component_creates_its_session_off_the_main_thread()
        {
            var component = Read("Runtime", "FlowMapSession.cs");
            var onEnable = Regex.Match(component, @"private void OnEnable\(\)\s*\{(?<body>.*?)\n        \}", RegexOptions.Singleline);
            Assert.True(onEnable.Success, "no OnEnable in the component");
            Assert.Contains("_starting = Task.Run(() => ReconstructionSession.Create(options));", onEnable.Groups["body"].Value);
            Assert.Single(Regex.Matches(component, @"ReconstructionSession\.Create\(")); // nowhere else
            Assert.Contains("public bool IsReady => Session != null;", component);
            // Taken in Update (the main thread), a session still starting when disabled released once it has started.
            var update = Regex.Match(component, @"private void Update\(\)\s*\{(?<body>.*?)\n        \}", RegexOptions.Singleline);
            Assert.Contains("_starting.IsCompleted", update.Groups["body"].Value);
            Assert.Contains("_starting?.ContinueWith(", component);
            // The sample copies no camera frame before the session takes it.
            Assert.Contains("!_flowMap.IsReady", Read("Samples~", "LiveReconstruction", "FlowMapCameraFeed.cs"));
        }
    }
}
