using System.Text;
using SecureIntake.Testing;

namespace SecureIntake.Desk.Tests;

/// <summary>Runs the real secureintake-desk executable, answering its questions through standard input, one per line.</summary>
internal static class DeskTool
{
    public static Task<ToolResult> RunAsync(IEnumerable<string> answers, params string[] arguments) =>
        RunAsync(answers, environment: null, arguments);

    public static Task<ToolResult> RunAsync(IEnumerable<string> answers, IDictionary<string, string>? environment, params string[] arguments) =>
        ExternalTool.RunAsync(
            "dotnet",
            [Path.Combine(AppContext.BaseDirectory, "secureintake-desk.dll"), .. arguments],
            Encoding.UTF8.GetBytes(string.Concat(answers.Select(answer => answer + "\n"))),
            environment);
}
