using SecureIntake.Core.Blobs;
using SecureIntake.Testing;

namespace SecureIntake.Core.Tests.Blobs;

/// <summary>
/// Disk room claimed as bytes arrive, on the real file system of the temporary directory, with its free space
/// that of a <see cref="ModelledDisk"/>.
/// </summary>
public sealed class DiskClaimTests : IDisposable
{
    private const long Step = DiskClaims.StepBytes;
    private readonly TemporaryDirectory _directory = new("si-claims-");

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task Claims_of_one_store_count_for_another_on_the_same_directory()
    {
        // Two stores stand in for two processes (web and worker): each opens its own lock on the directory.
        var floor = ModelledDisk.Bytes - (16 * Step);
        var web = Store(floor);
        var worker = Store(floor);

        // One byte per blob claims a whole step: the web fills the room while writing next to nothing.
        var held = new List<PendingBlob>();
        var refused = false;
        while (!refused && held.Count < 64)
        {
            var blob = web.Create();
            try
            {
                await blob.Content.WriteAsync(new byte[1]);
                held.Add(blob);
            }
            catch (NoDiskRoomException)
            {
                await blob.DisposeAsync();
                refused = true;
            }
        }

        Assert.True(refused, "the web store was never refused: its claims did not take room");
        Assert.InRange(held.Count, 12, 16); // 16 steps of room, less the directory's own blocks and any rounding of the file system
        await using (var blob = worker.Create())
        {
            await Assert.ThrowsAsync<NoDiskRoomException>(() => blob.Content.WriteAsync(new byte[1]).AsTask());
        }

        foreach (var blob in held)
        {
            await blob.DisposeAsync();
        }

        Assert.True(await EventuallyAsync(() => worker.HasRoomToStart), "the web store's claims did not come back when its blobs were deleted");
        await using var afterwards = worker.Create();
        await afterwards.Content.WriteAsync(new byte[1]);
        Assert.Equal([afterwards.Id.ToString("N")], Directory.GetFiles(_directory.Path).Select(Path.GetFileName));
    }

    [Fact]
    public async Task Sealing_gives_back_what_was_claimed_past_the_end()
    {
        var store = Store(0);
        await using var blob = store.Create();
        var length = Step + 12_345;
        await blob.Content.WriteAsync(new byte[length]);
        await blob.Content.FlushAsync();
        var path = _directory.File(blob.Id.ToString("N"));
        var whileWriting = await AllocatedBytesAsync(path);

        Assert.Equal(length, await blob.SealAsync(CancellationToken.None));
        var sealedAllocation = await AllocatedBytesAsync(path);

        Assert.True(whileWriting >= 2 * Step, $"{whileWriting} bytes allocated while writing: the second step was not claimed");
        Assert.InRange(sealedAllocation, length, length + (64 << 10));
        Assert.Equal(length, new FileInfo(path).Length);
    }

    [Fact]
    public async Task A_small_blob_of_a_batch_holds_only_the_blocks_it_fills_once_sealed()
    {
        // A mail batch's blobs claim by the file system block and are sealed without a truncate when nothing whole lies past the end.
        var store = Store(0);
        await using var blob = store.Create();
        blob.DurableLater = true;
        const int length = (3 * 4096) + 100;
        await blob.Content.WriteAsync(new byte[4096]);
        await blob.Content.WriteAsync(new byte[length - 4096]);
        var path = _directory.File(blob.Id.ToString("N"));

        Assert.Equal(length, await blob.SealAsync(CancellationToken.None));
        await PendingBlob.MakeDurableAsync([blob]);

        Assert.Equal(length, new FileInfo(path).Length);
        Assert.Equal(4 * 4096, await AllocatedBytesAsync(path));
    }

    [Fact]
    public async Task A_refused_blob_is_deleted_and_its_room_given_back()
    {
        var floor = ModelledDisk.Bytes - (16 * Step);
        var store = Store(floor);
        var blob = store.Create();
        var written = 0L;
        var chunk = new byte[1 << 20];
        await Assert.ThrowsAsync<NoDiskRoomException>(async () =>
        {
            while (written < (64 * Step))
            {
                await blob.Content.WriteAsync(chunk);
                written += chunk.Length;
            }
        });
        await blob.DisposeAsync();

        Assert.InRange(written, Step, 16 * Step);
        Assert.Empty(Directory.GetFiles(_directory.Path));
        Assert.True(await EventuallyAsync(() => store.HasRoomToStart), "the room claimed by the refused blob did not come back");
    }

    private BlobStore Store(long minimumFreeBytes) => ModelledDisk.Store(_directory.Path, minimumFreeBytes);

    /// <summary>Freed blocks may come back a moment after a delete; the 60 s is only a safety net.</summary>
    private static async Task<bool> EventuallyAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                return false;
            }

            await Task.Delay(10);
        }

        return true;
    }

    /// <summary>What the file system allocated to the file (st_blocks), past its length included.</summary>
    private static async Task<long> AllocatedBytesAsync(string path)
    {
        var stat = (await ExternalTool.RunAsync("stat", ["-c", "%b %B", path])).EnsureSuccess("stat").OutputText.Split(' ');
        return long.Parse(stat[0], System.Globalization.CultureInfo.InvariantCulture) * long.Parse(stat[1], System.Globalization.CultureInfo.InvariantCulture);
    }
}
