using System;
using System.CommandLine;
using System.Linq;
using System.Text.RegularExpressions;
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
                var parsed = root.Parse(args);
                if (parsed.Errors.Count > 0 && parsed.Action is not System.CommandLine.Help.HelpAction)
                {
                    // One line per problem in plain words (System.CommandLine names .NET types, e.g. System.Nullable`1[System.Double]).
                    foreach (var e in parsed.Errors.Select(e => e.Message).Distinct())
                        Console.Error.WriteLine("flowmap: " + PlainParseError(e));
                    Console.Error.WriteLine("flowmap: see `flowmap " + string.Join(" ", args.TakeWhile(a => !a.StartsWith('-')).Take(2)) + " --help`.");
                    return ExitCodes.BadInput;
                }
                // Our own handler below prints CliException as one line with its exit code; System.CommandLine's default
                // handler would swallow it into a stack trace and exit code 1.
                return parsed.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
            }
            catch (CliException e)
            {
                Console.Error.WriteLine("flowmap: " + e.Message);
                return e.ExitCode;
            }
            catch (OperationCanceledException)
            {
                Console.Error.WriteLine("flowmap: interrupted.");
                return ExitCodes.Interrupted;
            }
            catch (Exception e)
            {
                // The last resort: every input a command can meet should end in a CliException above; reaching this is a bug,
                // but it still ends in one line and a distinct exit code rather than an abort with a stack trace.
                var inner = e is AggregateException { InnerException: { } ie } ? ie : e;
                Console.Error.WriteLine($"flowmap: internal error ({inner.GetType().Name}): {inner.Message} " +
                                        "(a bug; please report it with the command line; FLOWMAP_DEBUG=1 prints the details).");
                if (Environment.GetEnvironmentVariable("FLOWMAP_DEBUG") == "1") Console.Error.WriteLine(e);
                return ExitCodes.Internal;
            }
        }

        /// <summary>System.CommandLine's parse message with .NET type names replaced by what the user types.</summary>
        internal static string PlainParseError(string message)
        {
            string Plain(string type) => type switch
            {
                var t when t.Contains("System.Double") || t.Contains("System.Single") => "a number (e.g. 2.5)",
                var t when t.Contains("System.Int32") || t.Contains("System.Int64") => "a whole number",
                var t when t.Contains("System.Boolean") => "true or false",
                _ => "a value of the right kind",
            };
            return Regex.Replace(message, @"as expected type '([^']*)'", m => "as " + Plain(m.Groups[1].Value));
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
