using System;
using System.Collections.Generic;
using System.CommandLine;
using System.Linq;

namespace FlowMap.Viewer.Cli
{
    /// <summary>
    /// `flowmap bench &lt;suite&gt;`: benchmarks. Each suite is an <see cref="IBenchSuite"/> in its own file, found by
    /// reflection like the commands, so `bench kernels`, `bench flow`, `bench reconstruct` live next to what they measure.
    /// </summary>
    public sealed class BenchCommand : ICliCommand
    {
        public int Order => 80;

        public Command Build()
        {
            var cmd = new Command("bench", "Benchmarks, printing tables with the anchors measured in the same run where they are installed.");
            var suites = typeof(BenchCommand).Assembly.GetTypes()
                .Where(t => typeof(IBenchSuite).IsAssignableFrom(t) && !t.IsAbstract && !t.IsInterface)
                .Select(t => (IBenchSuite)Activator.CreateInstance(t)!)
                .OrderBy(s => s.GetType().Name);
            foreach (var s in suites) cmd.Subcommands.Add(s.Build());
            return cmd;
        }
    }

    /// <summary>One `flowmap bench` suite.</summary>
    public interface IBenchSuite
    {
        Command Build();
    }
}
