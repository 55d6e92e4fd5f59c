using System.Buffers.Binary;
using System.Text;

namespace SecureIntake.Desk.Scrub;

/// <summary>
/// Cleans a PNG by chunk: the critical chunks (IHDR, PLTE, IDAT, IEND) and the ancillary ones that only say
/// how to show the pixels are copied byte for byte; text, EXIF, time, ICC profiles and any ancillary chunk this
/// tool does not know are left out. PNG lets a decoder skip any ancillary chunk, so the picture is unchanged.
/// </summary>
internal static class PngScrubber
{
    private static readonly byte[] Signature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];

    private static readonly HashSet<string> Critical = ["IHDR", "PLTE", "IDAT", "IEND"];

    // How to show the pixels (transparency, gamma, colour space, pixel size, background, animation): no names, times or places.
    private static readonly HashSet<string> Display = ["tRNS", "gAMA", "cHRM", "sRGB", "sBIT", "bKGD", "pHYs", "hIST", "acTL", "fcTL", "fdAT", "cICP", "mDCv", "cLLi"];

    public static bool Recognises(ReadOnlySpan<byte> start) => start.StartsWith(Signature);

    public static byte[] Clean(ReadOnlySpan<byte> input, ScrubLog log)
    {
        if (!Recognises(input))
        {
            throw new NotCleanedException("it does not start as a PNG does");
        }

        using var output = new MemoryStream(input.Length);
        output.Write(Signature);
        var position = Signature.Length;
        var chunks = 0;
        var sawData = false;
        while (true)
        {
            if (position + 12 > input.Length)
            {
                throw new NotCleanedException("it ends before its IEND chunk (is it cut short?)");
            }

            var length = BinaryPrimitives.ReadUInt32BigEndian(input.Slice(position, 4));
            var typeBytes = input.Slice(position + 4, 4);
            if (length > int.MaxValue || position + 12L + length > input.Length)
            {
                throw new NotCleanedException("a chunk runs past the end of the file (is it cut short?)");
            }

            foreach (var b in typeBytes)
            {
                if (!char.IsAsciiLetter((char)b))
                {
                    throw new NotCleanedException($"byte {position + 4} should name a chunk and does not (is it damaged?)");
                }
            }

            var type = Encoding.ASCII.GetString(typeBytes);
            var chunk = input.Slice(position, 12 + (int)length);
            var data = chunk.Slice(8, (int)length);
            position += chunk.Length;
            if (chunks++ == 0 && type != "IHDR")
            {
                throw new NotCleanedException("its first chunk is not IHDR (is it damaged?)");
            }

            if (Critical.Contains(type) || Display.Contains(type))
            {
                sawData |= type == "IDAT";
                output.Write(chunk);
                if (type == "IEND")
                {
                    break;
                }

                continue;
            }

            // A critical chunk (capital first letter) must be understood to show the picture: leaving it out could change it.
            if (char.IsAsciiLetterUpper(type[0]))
            {
                throw new NotCleanedException($"it has a critical chunk '{type}' that this tool does not know");
            }

            log.Remove(Describe(type, data));
            if (type == "iCCP")
            {
                log.Note("The ICC colour profile was removed (it can name the device or its maker): colours may look slightly different.");
            }
        }

        if (!sawData)
        {
            throw new NotCleanedException("it holds no image data (IDAT)");
        }

        if (position < input.Length)
        {
            log.Remove($"{input.Length - position} bytes after the image's end (IEND)");
        }

        return output.ToArray();
    }

    private static string Describe(string type, ReadOnlySpan<byte> data) => type switch
    {
        "tEXt" or "zTXt" or "iTXt" => $"text chunks ({type}: {Keyword(data)})",
        "eXIf" => ExifSummary.Describe(data) + " (eXIf chunk)",
        "tIME" => "last-modified time (tIME)",
        "iCCP" => "ICC colour profile (iCCP: its name and texts)",
        "sPLT" => "suggested palette (sPLT, named by its maker)",
        _ => $"ancillary chunk '{type}' (program or maker specific)",
    };

    /// <summary>The keyword a text chunk starts with ("Author", "Comment"…), shown as it is only when plainly printable.</summary>
    private static string Keyword(ReadOnlySpan<byte> data)
    {
        var end = data.IndexOf((byte)0);
        var keyword = data[..(end < 0 ? Math.Min(data.Length, 79) : Math.Min(end, 79))];
        foreach (var b in keyword)
        {
            if (b is < 0x20 or > 0x7E)
            {
                return "unnamed";
            }
        }

        return keyword.Length == 0 ? "unnamed" : $"\"{Encoding.ASCII.GetString(keyword)}\"";
    }
}
