using System.Buffers.Binary;

namespace SecureIntake.Desk.Scrub;

/// <summary>
/// Names what an EXIF block held, for the report only: the whole block is dropped whatever this finds, so a
/// block it cannot read is still removed (and reported as not readable in detail).
/// </summary>
internal static class ExifSummary
{
    private const ushort ExifPointer = 0x8769;
    private const ushort GpsPointer = 0x8825;

    private static readonly Dictionary<ushort, string> Telling = new()
    {
        [0x010E] = "image description",
        [0x010F] = "camera make and model",
        [0x0110] = "camera make and model",
        [0x0131] = "software",
        [0x0132] = "dates and times",
        [0x013B] = "author",
        [0x8298] = "copyright",
        [0x9C9D] = "author",
        [0x9C9C] = "comment",
        [0xC62F] = "camera serial number",
        [0x9003] = "dates and times",
        [0x9004] = "dates and times",
        [0x9286] = "comment",
        [0x927C] = "maker notes (often with serial numbers)",
        [0xA420] = "unique image id",
        [0xA430] = "camera owner's name",
        [0xA431] = "camera serial number",
        [0xA434] = "lens model",
        [0xA435] = "lens serial number",
    };

    /// <param name="tiff">The block from its TIFF header on ("II*\0" or "MM\0*").</param>
    public static string Describe(ReadOnlySpan<byte> tiff)
    {
        var found = new List<string>();
        try
        {
            var little = tiff.Length >= 8 && tiff[0] == (byte)'I' && tiff[1] == (byte)'I';
            if (tiff.Length < 8 || (!little && !(tiff[0] == (byte)'M' && tiff[1] == (byte)'M')))
            {
                return "EXIF (not readable in detail)";
            }

            var first = ReadUInt32(tiff, 4, little);
            var next = Walk(tiff, first, little, found, depth: 0);
            if (next != 0 && next < tiff.Length)
            {
                found.Add("thumbnail picture (may show the scene before cropping)");
            }
        }
        catch (Exception e) when (e is ArgumentOutOfRangeException or IndexOutOfRangeException)
        {
            found.Add("parts not readable in detail");
        }

        return found.Count == 0 ? "EXIF" : "EXIF: " + string.Join(", ", found.Distinct());
    }

    private static uint Walk(ReadOnlySpan<byte> tiff, uint offset, bool little, List<string> found, int depth)
    {
        if (depth > 4 || offset + 2 > tiff.Length)
        {
            return 0;
        }

        var count = ReadUInt16(tiff, (int)offset, little);
        for (var i = 0; i < count; i++)
        {
            var entry = (int)offset + 2 + (12 * i);
            var tag = ReadUInt16(tiff, entry, little);
            if (tag == GpsPointer)
            {
                found.Insert(0, "GPS position");
            }
            else if (tag == ExifPointer)
            {
                Walk(tiff, ReadUInt32(tiff, entry + 8, little), little, found, depth + 1);
            }
            else if (Telling.TryGetValue(tag, out var what))
            {
                found.Add(what);
            }
        }

        return ReadUInt32(tiff, (int)offset + 2 + (12 * count), little);
    }

    private static ushort ReadUInt16(ReadOnlySpan<byte> data, int at, bool little) =>
        little ? BinaryPrimitives.ReadUInt16LittleEndian(data.Slice(at, 2)) : BinaryPrimitives.ReadUInt16BigEndian(data.Slice(at, 2));

    private static uint ReadUInt32(ReadOnlySpan<byte> data, int at, bool little) =>
        little ? BinaryPrimitives.ReadUInt32LittleEndian(data.Slice(at, 4)) : BinaryPrimitives.ReadUInt32BigEndian(data.Slice(at, 4));
}
