using System.Globalization;
using System.Text;

namespace SecureIntake.Desk.Tests;

public sealed class SafeFileNamesTests
{
    [Theory]
    [InlineData("../../etc/passwd", "passwd")]
    [InlineData("..\\..\\boot.ini", "boot.ini")]
    [InlineData("/etc/shadow", "shadow")]
    [InlineData("C:\\Windows\\System32\\drivers\\etc\\hosts", "hosts")]
    [InlineData("\\\\fileserver\\share\\leak.docx", "leak.docx")]
    [InlineData("photos/../../../.ssh/authorized_keys", "authorized_keys")]
    [InlineData("mixed/..\\..//x.pdf", "x.pdf")]
    public void Only_the_last_path_component_is_kept(string original, string expected) =>
        Assert.Equal(expected, SafeFileNames.Clean(original, 1));

    [Theory]
    [InlineData("..")]
    [InlineData(".")]
    [InlineData("../..")]
    [InlineData("folder/")]
    [InlineData("C:\\")]
    public void A_path_that_ends_in_no_file_name_falls_back_to_a_numbered_name(string original) =>
        Assert.Equal("file-4", SafeFileNames.Clean(original, 4));

    [Theory]
    [InlineData("CON", "_CON")]
    [InlineData("con", "_con")]
    [InlineData("PRN", "_PRN")]
    [InlineData("aux", "_aux")]
    [InlineData("nul.txt", "_nul.txt")]
    [InlineData("NUL.tar.gz", "_NUL.tar.gz")]
    [InlineData("nul .txt", "_nul .txt")]
    [InlineData("COM1", "_COM1")]
    [InlineData("com9.log", "_com9.log")]
    [InlineData("LPT1", "_LPT1")]
    [InlineData("lpt9.doc", "_lpt9.doc")]
    [InlineData("COM¹.txt", "_COM¹.txt")]
    [InlineData("CONOUT$", "_CONOUT$")]
    [InlineData("../../CON", "_CON")]
    [InlineData("CON.", "_CON")]
    public void Windows_device_names_are_prefixed(string original, string expected) =>
        Assert.Equal(expected, SafeFileNames.Clean(original, 1));

    [Theory]
    [InlineData("CONSOLE.txt")]
    [InlineData("con-notes.txt")]
    [InlineData("COM10")]
    [InlineData("nullable.cs")]
    [InlineData("my.con")]
    public void Names_that_only_look_like_devices_are_kept(string original) =>
        Assert.Equal(original, SafeFileNames.Clean(original, 1));

    [Theory]
    [InlineData("report\u0000.pdf", "report.pdf")]
    [InlineData("line\nbreak\r.txt", "linebreak.txt")]
    [InlineData("tab\tbed.txt", "tabbed.txt")]
    [InlineData("bell\u0007\u001b[31mred.txt", "bell[31mred.txt")]
    [InlineData("del\u007f.txt", "del.txt")]
    [InlineData("c1\u0085\u009b.txt", "c1.txt")]
    [InlineData("in\u200Bvisible.pdf", "invisible.pdf")]
    [InlineData("\uFEFFbom.txt", "bom.txt")]
    [InlineData("para\u2028graph\u2029.txt", "paragraph.txt")]
    public void Control_and_format_characters_are_removed(string original, string expected) =>
        Assert.Equal(expected, SafeFileNames.Clean(original, 1));

    [Theory]
    [InlineData("evil\u202Etxt.exe", "eviltxt.exe")]
    [InlineData("invoice\u202Efdp.scr", "invoicefdp.scr")]
    [InlineData("\u2067photo\u2069\u200F.jpg\u200E", "photo.jpg")]
    [InlineData("a\u202Db\u202Ac\u2066d.txt", "abcd.txt")]
    public void Bidi_controls_cannot_disguise_the_real_extension(string original, string expected)
    {
        var clean = SafeFileNames.Clean(original, 1);

        Assert.Equal(expected, clean);
        Assert.DoesNotContain(clean, c => CharUnicodeInfo.GetUnicodeCategory(c) == UnicodeCategory.Format);
    }

    [Theory]
    [InlineData(".bashrc", "bashrc")]
    [InlineData("...hidden.txt", "hidden.txt")]
    [InlineData("report.pdf...", "report.pdf")]
    [InlineData("report.pdf   ", "report.pdf")]
    [InlineData("report. . .", "report")]
    [InlineData(" . leading.txt", "leading.txt")]
    [InlineData("a..b.txt", "a..b.txt")]
    public void Leading_dots_and_trailing_dots_and_spaces_are_removed(string original, string expected) =>
        Assert.Equal(expected, SafeFileNames.Clean(original, 1));

    [Theory]
    [InlineData("a<b>c:d\"e|f?g*h.txt", "a_b_c_d_e_f_g_h.txt")]
    [InlineData("C:evil.txt", "C_evil.txt")]
    [InlineData("notes.txt:hidden-stream", "notes.txt_hidden-stream")]
    [InlineData("what?.doc", "what_.doc")]
    [InlineData("?", "_")]
    public void Characters_Windows_forbids_are_replaced(string original, string expected) =>
        Assert.Equal(expected, SafeFileNames.Clean(original, 1));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("....")]
    [InlineData(". . .")]
    [InlineData("\u202E\u200B")]
    [InlineData("\u0000\u0001")]
    public void Nothing_left_falls_back_to_a_numbered_name(string? original) =>
        Assert.Equal("file-7", SafeFileNames.Clean(original, 7));

    [Theory]
    [InlineData("площадь.mp4")]
    [InlineData("Қазақстан әңгіме.txt")]
    [InlineData("Алматы — митинг 2026.mov")]
    [InlineData("Өскемен, Ұлытау, Үржар, Һ, Ғ.pdf")]
    [InlineData("фото (1).jpg")]
    public void Cyrillic_and_Kazakh_letters_are_kept(string original) =>
        Assert.Equal(original, SafeFileNames.Clean(original, 1));

    [Fact]
    public void Names_are_stored_in_composed_form_as_macOS_compares_them() =>
        Assert.Equal("й.txt", SafeFileNames.Clean("и\u0306.txt", 1));

    [Fact]
    public void Other_spaces_become_plain_spaces() =>
        Assert.Equal("a b.txt", SafeFileNames.Clean("a\u00A0b.txt\u3000", 1));

    [Fact]
    public void A_long_name_is_cut_to_200_bytes_keeping_its_extension()
    {
        var clean = SafeFileNames.Clean(new string('a', 500) + ".pdf", 1);

        Assert.Equal(new string('a', 196) + ".pdf", clean);
        Assert.Equal(SafeFileNames.MaxBytes, Encoding.UTF8.GetByteCount(clean));
    }

    [Fact]
    public void A_long_Cyrillic_name_is_cut_by_bytes_not_characters()
    {
        var clean = SafeFileNames.Clean(new string('я', 300) + ".mp4", 1);

        Assert.Equal(new string('я', 98) + ".mp4", clean);
    }

    [Fact]
    public void A_long_name_without_an_extension_is_cut_too() =>
        Assert.Equal(new string('b', 200), SafeFileNames.Clean(new string('b', 300), 1));

    [Fact]
    public void Text_after_a_dot_that_is_too_long_for_an_extension_is_cut_like_the_rest()
    {
        var clean = SafeFileNames.Clean(new string('a', 150) + "." + new string('b', 150), 1);

        Assert.Equal(new string('a', 150) + "." + new string('b', 49), clean);
    }

    [Fact]
    public void Cutting_never_splits_a_character_or_its_accents()
    {
        var emoji = SafeFileNames.Clean(string.Concat(Enumerable.Repeat("😀", 100)) + ".jpg", 1);
        var accented = SafeFileNames.Clean(string.Concat(Enumerable.Repeat("q\u0303", 100)) + ".txt", 1);

        Assert.Equal(string.Concat(Enumerable.Repeat("😀", 49)) + ".jpg", emoji);
        Assert.Equal(string.Concat(Enumerable.Repeat("q\u0303", 65)) + ".txt", accented);
    }

    [Fact]
    public void A_name_cut_to_a_trailing_dot_loses_it()
    {
        var clean = SafeFileNames.Clean(new string('a', 199) + ". tail without extension here", 1);

        Assert.Equal(new string('a', 199), clean);
    }

    [Fact]
    public void A_taken_name_gets_a_number_before_its_extension_ignoring_case()
    {
        var names = new SafeFileNames();

        Assert.Equal("photo.jpg", names.Claim("photo.jpg", 1));
        Assert.Equal("PHOTO (2).JPG", names.Claim("PHOTO.JPG", 2));
        Assert.Equal("photo (3).jpg", names.Claim("../photo.jpg", 3));
        Assert.Equal("photo", names.Claim("photo", 4));
        Assert.Equal("Photo (2)", names.Claim("Photo", 5));
    }

    [Fact]
    public void Cyrillic_names_differing_only_in_case_or_composition_are_the_same_name()
    {
        var names = new SafeFileNames();

        Assert.Equal("Фото.jpg", names.Claim("Фото.jpg", 1));
        Assert.Equal("фото (2).jpg", names.Claim("фото.jpg", 2));
        Assert.Equal("й.txt", names.Claim("й.txt", 3));
        Assert.Equal("й (2).txt", names.Claim("и\u0306.txt", 4));
    }

    [Fact]
    public void Names_already_in_the_folder_are_never_handed_out()
    {
        var names = new SafeFileNames(["manifest.json", "encrypted", "message-1.txt"]);

        Assert.Equal("Manifest (2).JSON", names.Claim("Manifest.JSON", 1));
        Assert.Equal("encrypted (2)", names.Claim("encrypted", 2));
        Assert.Equal("message-1 (2).txt", names.Claim("message-1.txt", 3));
    }

    [Fact]
    public void Numbered_fallbacks_and_device_names_stay_unique()
    {
        var names = new SafeFileNames();

        Assert.Equal("file-1", names.Claim(null, 1));
        Assert.Equal("file-1 (2)", names.Claim("file-1", 2));
        Assert.Equal("_CON", names.Claim("CON", 3));
        Assert.Equal("_con (2)", names.Claim("con", 4));
    }

    [Fact]
    public void A_numbered_copy_of_a_long_name_still_fits()
    {
        var names = new SafeFileNames();
        var original = new string('a', 500) + ".pdf";

        names.Claim(original, 1);
        var second = names.Claim(original, 2);

        Assert.Equal(new string('a', 192) + " (2).pdf", second);
        Assert.Equal(SafeFileNames.MaxBytes, Encoding.UTF8.GetByteCount(second));
    }

    [Fact]
    public void Many_copies_count_on()
    {
        var names = new SafeFileNames();

        var claimed = Enumerable.Range(1, 12).Select(n => names.Claim("same.txt", n)).ToList();

        Assert.Equal("same (12).txt", claimed[^1]);
        Assert.Equal(12, claimed.Distinct(StringComparer.OrdinalIgnoreCase).Count());
    }

    [Fact]
    public void Any_hostile_name_becomes_one_file_inside_the_folder()
    {
        const string alphabet = "aZя.. /\\\\:*?\"<>|\u0000\u001f\u007f\u202e\u200b\u00a0\ud800\udc00\ud83d\ude00\u0301CONnul";
        var random = new Random(20261130);
        var names = new SafeFileNames();
        var folder = Path.Combine(Path.GetTempPath(), "si-desk-names");
        for (var i = 0; i < 5000; i++)
        {
            var original = new string(Enumerable.Range(0, random.Next(0, 260)).Select(_ => alphabet[random.Next(alphabet.Length)]).ToArray());

            var name = names.Claim(original, i);

            Assert.True(name.Length > 0);
            Assert.True(Encoding.UTF8.GetByteCount(name) <= SafeFileNames.MaxBytes, name);
            Assert.Equal(name, Path.GetFileName(name));
            Assert.Equal(folder, Path.GetDirectoryName(Path.GetFullPath(Path.Combine(folder, name))));
            Assert.False(name.StartsWith('.') || name.StartsWith(' ') || name.EndsWith('.') || name.EndsWith(' '), name);
            Assert.DoesNotContain(name, c => "<>:\"/\\|?*".Contains(c, StringComparison.Ordinal) || char.IsControl(c)
                || CharUnicodeInfo.GetUnicodeCategory(c) == UnicodeCategory.Format);
            Assert.False(SafeFileNames.IsDeviceName(name), name);
            Assert.Equal(name, name.Normalize(NormalizationForm.FormC));
            Assert.Equal(name, Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(name)));
        }
    }
}
