using System.Text;

namespace SecureIntake.Desk.Scrub;

/// <summary>
/// Cleans a JPEG without decoding it: the segments that describe the picture (tables, frame, scans) and the
/// compressed image data are copied byte for byte, and every metadata segment (APP1 to APP13, APP15, COM) is
/// left out. Re-encoding would lose quality and run a decoder over hostile data; this reads only lengths.
/// </summary>
internal static class JpegScrubber
{
    private const byte StartOfImage = 0xD8;
    private const byte EndOfImage = 0xD9;
    private const byte StartOfScan = 0xDA;
    private const byte Comment = 0xFE;
    private const byte App0 = 0xE0;
    private const byte App14 = 0xEE;

    public static bool Recognises(ReadOnlySpan<byte> start) => start.Length >= 3 && start[0] == 0xFF && start[1] == StartOfImage && start[2] == 0xFF;

    public static byte[] Clean(ReadOnlySpan<byte> input, ScrubLog log)
    {
        if (!Recognises(input))
        {
            throw new NotCleanedException("it does not start as a JPEG does");
        }

        using var output = new MemoryStream(input.Length);
        output.Write(input[..2]);
        var position = 2;
        var sawFrame = false;
        var sawScan = false;
        while (true)
        {
            if (position >= input.Length || input[position] != 0xFF)
            {
                throw new NotCleanedException(position >= input.Length
                    ? "it ends before its end-of-image marker (is it cut short?)"
                    : $"byte {position} should start a segment and does not (is it damaged?)");
            }

            // Any number of 0xFF fill bytes may stand before a marker.
            while (position < input.Length && input[position] == 0xFF)
            {
                position++;
            }

            if (position >= input.Length)
            {
                throw new NotCleanedException("it ends before its end-of-image marker (is it cut short?)");
            }

            var marker = input[position++];
            if (marker == EndOfImage)
            {
                output.Write([0xFF, EndOfImage]);
                break;
            }

            if (marker is 0x01 or (>= 0xD0 and <= 0xD7))
            {
                output.Write([0xFF, marker]);
                continue;
            }

            if (marker is 0x00 or StartOfImage || position + 2 > input.Length)
            {
                throw new NotCleanedException($"it has a misplaced marker at byte {position - 1} (is it damaged?)");
            }

            var length = (input[position] << 8) | input[position + 1];
            if (length < 2 || position + length > input.Length)
            {
                throw new NotCleanedException("a segment runs past the end of the file (is it cut short?)");
            }

            var segment = input.Slice(position - 2, length + 2);
            var body = input.Slice(position + 2, length - 2);
            position += length;
            if (marker is >= App0 and <= 0xEF or Comment)
            {
                KeepOrDrop(marker, body, segment, output, log);
                continue;
            }

            sawFrame |= marker is >= 0xC0 and <= 0xCF and not 0xC4 and not 0xC8 and not 0xCC;
            output.Write(segment);
            if (marker == StartOfScan)
            {
                sawScan = true;
                var start = position;
                position = EndOfScanData(input, position);
                output.Write(input[start..position]);
            }
        }

        if (!sawFrame || !sawScan)
        {
            throw new NotCleanedException("it holds no image frame and scan");
        }

        if (position < input.Length)
        {
            log.Remove($"{input.Length - position} bytes after the image's end (a second image, a preview or a maker's data)");
        }

        return output.ToArray();
    }

    /// <summary>Entropy-coded data runs until a 0xFF that is neither stuffing (FF 00) nor a restart marker.</summary>
    private static int EndOfScanData(ReadOnlySpan<byte> input, int position)
    {
        while (true)
        {
            if (position + 1 >= input.Length)
            {
                throw new NotCleanedException("its image data runs to the end of the file without an end-of-image marker (is it cut short?)");
            }

            if (input[position] == 0xFF)
            {
                var next = input[position + 1];
                if (next is not (0x00 or 0xFF or (>= 0xD0 and <= 0xD7)))
                {
                    return position;
                }

                position += next == 0xFF ? 1 : 2;
                continue;
            }

            position++;
        }
    }

    private static void KeepOrDrop(byte marker, ReadOnlySpan<byte> body, ReadOnlySpan<byte> segment, MemoryStream output, ScrubLog log)
    {
        if (marker == App0 && body.StartsWith("JFIF\0"u8) && body.Length >= 14)
        {
            // The JFIF header is kept for decoders that want it, without the thumbnail it may carry.
            output.Write([0xFF, App0, 0x00, 16]);
            output.Write(body[..12]);
            output.Write([0, 0]);
            if (body.Length > 14)
            {
                log.Remove("JFIF thumbnail picture");
            }

            return;
        }

        if (marker == App14 && body.StartsWith("Adobe"u8) && body.Length == 12)
        {
            // Holds only a version, flags and the colour transform a decoder needs for CMYK and YCCK pictures.
            output.Write(segment);
            return;
        }

        log.Remove(Describe(marker, body));
        if (marker == App0 + 1 && body.StartsWith("Exif\0\0"u8))
        {
            log.Note("The EXIF orientation went with the rest of EXIF: a photo taken sideways may show sideways.");
        }

        if (marker == App0 + 2 && body.StartsWith("ICC_PROFILE\0"u8))
        {
            log.Note("The ICC colour profile was removed (it can name the device or its maker): colours may look slightly different.");
        }
    }

    private static string Describe(byte marker, ReadOnlySpan<byte> body) => marker switch
    {
        Comment => "JPEG comments (COM)",
        App0 + 1 when body.StartsWith("Exif\0\0"u8) => ExifSummary.Describe(body[6..]),
        App0 + 1 when body.StartsWith("http://ns.adobe.com/xap/1.0/\0"u8) => "XMP metadata",
        App0 + 1 when body.StartsWith("http://ns.adobe.com/xmp/extension/\0"u8) => "XMP metadata (extended part)",
        App0 + 2 when body.StartsWith("ICC_PROFILE\0"u8) => "ICC colour profile (its description, device and copyright texts)",
        App0 + 2 when body.StartsWith("MPF\0"u8) => "multi-picture index (further images after the first)",
        App0 + 2 when body.StartsWith("FPXR"u8) => "FlashPix data",
        App0 + 13 when body.StartsWith("Photoshop 3.0\0"u8) => "IPTC/Photoshop data (captions, bylines, places, keywords)",
        App0 when body.StartsWith("JFXX\0"u8) => "JFIF thumbnail picture",
        _ => $"APP{marker - App0} data ({Identifier(body)}; program or maker specific)",
    };

    private static string Identifier(ReadOnlySpan<byte> body)
    {
        var end = body.IndexOf((byte)0);
        var name = body[..Math.Min(end < 0 ? body.Length : end, 24)];
        foreach (var b in name)
        {
            if (b is < 0x20 or > 0x7E)
            {
                return "unnamed";
            }
        }

        return name.Length == 0 ? "unnamed" : $"\"{Encoding.ASCII.GetString(name)}\"";
    }
}
