using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;

namespace ProxyFs.Host.Cli;

/// <summary>
/// What every proxyfs command does the same way: a usage error is one line per problem on stderr, a hint to run
/// --help, and exit code 2 (not the help text dumped on a mistake); --help ends with the exit codes and where the
/// manual is.
/// </summary>
public static class CommandLineConventions
{
    /// <summary>The footer of every --help.</summary>
    public const string HelpFooter =
        "Exit codes: 0 success, 1 failure, 2 usage error, 32 mount failed, 78 configuration error.\n" +
        "Manual: proxyfs(1), proxyfs.yaml(5); configuration: /etc/proxyfs/proxyfs.yaml.";

    /// <summary>Installs the help footer.</summary>
    public static void Apply(Command root)
    {
        ArgumentNullException.ThrowIfNull(root);
        foreach (Option option in root.Options)
        {
            if (option is HelpOption help && help.Action is HelpAction standard)
            {
                help.Action = new HelpWithFooter(standard);
            }
        }
    }

    /// <summary>Parses and runs; parse errors become one line each and exit code 2.</summary>
    public static int Invoke(Command root, string[] args)
    {
        ArgumentNullException.ThrowIfNull(root);
        ParseResult result = root.Parse(args);
        if (result.Errors.Count > 0 && result.Action is ParseErrorAction)
        {
            foreach (string message in result.Errors.Select(e => e.Message).Distinct(StringComparer.Ordinal))
            {
                Console.Error.WriteLine("proxyfs: " + message);
            }
            Console.Error.WriteLine($"Run '{CommandPath(result.CommandResult.Command, root)} --help' for usage.");
            return ExitCodes.Usage;
        }
        return result.Invoke();
    }

    private static string CommandPath(Command command, Command root) =>
        command == root ? "proxyfs" : "proxyfs " + command.Name;

    private sealed class HelpWithFooter(HelpAction standard) : SynchronousCommandLineAction
    {
        public override bool ClearsParseErrors => true;

        public override int Invoke(ParseResult parseResult)
        {
            int code = standard.Invoke(parseResult);
            parseResult.InvocationConfiguration.Output.WriteLine(HelpFooter);
            parseResult.InvocationConfiguration.Output.WriteLine();
            return code;
        }
    }
}
