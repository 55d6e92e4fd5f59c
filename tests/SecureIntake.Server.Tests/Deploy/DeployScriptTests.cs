using SecureIntake.Testing;

namespace SecureIntake.Server.Tests.Deploy;

public sealed class DeployScriptTests
{
    [Fact]
    public async Task Every_script_an_admin_runs_passes_shellcheck()
    {
        var shellcheck = ExternalTool.Require("shellcheck", "shellcheck");
        var scripts = DeployFolder.ShellScripts().ToList();
        Assert.Contains(scripts, path => path.EndsWith("publish.sh", StringComparison.Ordinal));
        Assert.Contains(scripts, path => path.EndsWith("desk-client-key.sh", StringComparison.Ordinal));

        var result = await ExternalTool.RunAsync(shellcheck, ["--severity=style", .. scripts]);

        Assert.True(result.ExitCode == 0, $"shellcheck:\n{result.OutputText}{result.Error}");
    }
}
