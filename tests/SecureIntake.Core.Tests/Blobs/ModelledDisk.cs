using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using SecureIntake.Core.Blobs;

namespace SecureIntake.Core.Tests.Blobs;

/// <summary>
/// Free space as a disk of <see cref="Bytes"/> holding only one directory would have it: its size less what the
/// directory's files have allocated (du counts st_blocks, claims preallocated past a file's end included, as the
/// kernel counts them). Tests of the free-space floor use it so that neither how much this machine has free nor
/// other processes writing to the same disk meanwhile decide their outcome.
/// </summary>
internal static class ModelledDisk
{
    public const long Bytes = 32 * DiskClaims.StepBytes;

    public static BlobStore Store(string directory, long minimumFreeBytes) =>
        new(Options.Create(new BlobStoreOptions { BlobDirectory = directory, MinimumFreeBytes = minimumFreeBytes }), NullLogger<BlobStore>.Instance, FreeBytes);

    public static long FreeBytes(string directory)
    {
        using var du = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("du", ["--block-size=1", "--summarize", directory])
        {
            RedirectStandardOutput = true,
        })!;
        var output = du.StandardOutput.ReadToEnd();
        du.WaitForExit();
        Assert.True(du.ExitCode == 0, $"du exited with {du.ExitCode}");
        return Bytes - long.Parse(output.Split('\t')[0], System.Globalization.CultureInfo.InvariantCulture);
    }
}
