using System;
using System.CommandLine;
using System.Linq;
using System.Reflection;
using FlowMap.Viewer.Cli;

namespace FlowMap.Viewer
{
    /// <summary>
    /// The `flowmap` command line. Each subcommand is one class implementing <see cref="ICliCommand"/> under Cli/,
    /// discovered here, so adding a command touches only its own file.
    /// </summary>
    public static class Program
    {
        public static int Main(string[] args)
        {
            HostEnvironment.Apply();
            return Run(args);
        }

        /// <summary>Runs one command line in this process (Main, and `demo` for its steps); returns the exit code.</summary>
        public static int Run(string[] args)
        {
            var root = BuildRoot();
            try
            {
                // Our own handler below prints CliException as one line with its exit code; System.CommandLine's default
                // handler would swallow it into a stack trace and exit code 1.
                return root.Parse(args).Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
            }
            catch (CliException e)
            {
                Console.Error.WriteLine("flowmap: " + e.Message);
                return e.ExitCode;
            }
        }

        public static RootCommand BuildRoot()
        {
            var root = new RootCommand(
                "FlowMap: live monocular reconstruction (camera poses, focal, dense depth, a fused point cloud) on Vulkan compute.");
            var commands = typeof(Program).Assembly.GetTypes()
                .Where(t => typeof(ICliCommand).IsAssignableFrom(t) && !t.IsAbstract && !t.IsInterface)
                .Select(t => (ICliCommand)Activator.CreateInstance(t)!)
                .OrderBy(c => c.Order).ThenBy(c => c.GetType().Name);
            foreach (var c in commands)
                root.Subcommands.Add(c.Build());
            return root;
        }
    }
}
