using System.Security.Cryptography;
using System.Text;
using SecureIntake.Core.Editors;

namespace SecureIntake.Core.Tests.Editors;

public sealed class TotpTests
{
    // RFC 6238 appendix B: the SHA-1 seed is the 20 ASCII bytes "12345678901234567890".
    private static readonly byte[] RfcSecret = Encoding.ASCII.GetBytes("12345678901234567890");

    private static readonly DateTimeOffset Now = DateTimeOffset.FromUnixTimeSeconds(1_700_000_000);

    // The RFC lists 8-digit codes; a 6-digit code is the same truncated value modulo 10^6, i.e. its last 6 digits.
    [Theory]
    [InlineData(59L, "94287082")]
    [InlineData(1111111109L, "07081804")]
    [InlineData(1111111111L, "14050471")]
    [InlineData(1234567890L, "89005924")]
    [InlineData(2000000000L, "69279037")]
    [InlineData(20000000000L, "65353130")]
    public void Codes_match_the_RFC_6238_SHA1_test_vectors(long unixSeconds, string rfcCode)
    {
        var time = DateTimeOffset.FromUnixTimeSeconds(unixSeconds);

        var step = Totp.StepAt(time);

        Assert.Equal(unixSeconds / 30, step);
        Assert.Equal(rfcCode[^6..], Totp.Code(RfcSecret, step));
        Assert.Equal(step, Totp.Verify(RfcSecret, rfcCode[^6..], time, -1));
    }

    [Fact]
    public void Base32_matches_the_known_encoding_of_the_RFC_secret()
    {
        Assert.Equal("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", Totp.ToBase32(RfcSecret));
        Assert.Equal(RfcSecret, Totp.FromBase32("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"));
    }

    [Theory]
    [InlineData("", "")]
    [InlineData("f", "MY")]
    [InlineData("fo", "MZXQ")]
    [InlineData("foo", "MZXW6")]
    [InlineData("foob", "MZXW6YQ")]
    [InlineData("fooba", "MZXW6YTB")]
    [InlineData("foobar", "MZXW6YTBOI")]
    public void Base32_matches_the_RFC_4648_test_vectors_without_padding(string plain, string encoded)
    {
        Assert.Equal(encoded, Totp.ToBase32(Encoding.ASCII.GetBytes(plain)));
        Assert.Equal(Encoding.ASCII.GetBytes(plain), Totp.FromBase32(encoded));
    }

    [Fact]
    public void Base32_round_trips_random_secrets_of_every_length()
    {
        for (var length = 0; length <= 41; length++)
        {
            var bytes = RandomNumberGenerator.GetBytes(length);

            Assert.Equal(bytes, Totp.FromBase32(Totp.ToBase32(bytes)));
        }
    }

    [Fact]
    public void Base32_as_a_person_copies_it_is_read_the_same()
    {
        Assert.Equal(RfcSecret, Totp.FromBase32(" gezd gnbv gy3t qojq GEZD GNBV GY3T QOJQ "));
        Assert.Equal(Encoding.ASCII.GetBytes("foobar"), Totp.FromBase32("mzxw6ytboi======"));
    }

    [Theory]
    [InlineData("MZXW6YT1")]
    [InlineData("MZXW6YT8")]
    [InlineData("MZ=XW6YTBOI")]
    [InlineData("MZXW6YTBO")]
    [InlineData("M")]
    [InlineData("MZX")]
    [InlineData("MZ-XW")]
    [InlineData("MZ")] // 'Z' leaves non-zero bits after the one byte that "MY" encodes
    public void Malformed_base32_is_a_format_error(string text)
    {
        Assert.Throws<FormatException>(() => Totp.FromBase32(text));
    }

    [Fact]
    public void A_new_secret_is_20_random_bytes()
    {
        var first = Totp.NewSecret();

        Assert.Equal(Totp.SecretBytes, first.Length);
        Assert.NotEqual(first, Totp.NewSecret());
    }

    [Fact]
    public void The_provisioning_uri_escapes_issuer_and_account_and_spells_out_the_defaults()
    {
        var uri = Totp.ProvisioningUri("The Daily Post", "jane.doe+desk@example.org", RfcSecret);

        Assert.Equal(
            "otpauth://totp/The%20Daily%20Post:jane.doe%2Bdesk%40example.org?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
            + "&issuer=The%20Daily%20Post&algorithm=SHA1&digits=6&period=30",
            uri);
        Assert.Equal("otpauth", new Uri(uri).Scheme);
    }

    [Fact]
    public void A_colon_or_ampersand_in_a_name_cannot_change_the_uri_structure()
    {
        var uri = Totp.ProvisioningUri("A:B&secret=AAAA", "x:y?z", RfcSecret);

        Assert.StartsWith("otpauth://totp/A%3AB%26secret%3DAAAA:x%3Ay%3Fz?secret=GEZD", uri, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(0)]
    [InlineData(1)]
    public void A_code_from_one_step_either_side_is_accepted_for_clock_drift(int offset)
    {
        var secret = Totp.NewSecret();
        var step = Totp.StepAt(Now) + offset;

        Assert.Equal(step, Totp.Verify(secret, Totp.Code(secret, step), Now, -1));
    }

    [Theory]
    [InlineData(-2)]
    [InlineData(2)]
    public void A_code_two_steps_away_is_refused(int offset)
    {
        var secret = Totp.NewSecret();

        Assert.Null(Totp.Verify(secret, Totp.Code(secret, Totp.StepAt(Now) + offset), Now, -1));
    }

    [Fact]
    public void A_replayed_code_is_refused()
    {
        var secret = Totp.NewSecret();
        var code = Totp.Code(secret, Totp.StepAt(Now));

        var used = Totp.Verify(secret, code, Now, -1);

        Assert.NotNull(used);
        Assert.Null(Totp.Verify(secret, code, Now, used.Value));
        Assert.Null(Totp.Verify(secret, code, Now.AddSeconds(20), used.Value));
    }

    [Fact]
    public void An_older_code_is_refused_once_a_newer_one_was_used()
    {
        var secret = Totp.NewSecret();
        var step = Totp.StepAt(Now);

        var used = Totp.Verify(secret, Totp.Code(secret, step + 1), Now, -1);

        Assert.Equal(step + 1, used);
        Assert.Null(Totp.Verify(secret, Totp.Code(secret, step), Now, used!.Value));
        Assert.Null(Totp.Verify(secret, Totp.Code(secret, step - 1), Now, used.Value));
    }

    [Fact]
    public void A_code_for_another_secret_is_refused()
    {
        Assert.Null(Totp.Verify(Totp.NewSecret(), Totp.Code(Totp.NewSecret(), Totp.StepAt(Now)), Now, -1));
    }

    [Fact]
    public void Spaces_as_apps_show_them_and_a_pasted_newline_are_ignored()
    {
        var secret = Totp.NewSecret();
        var code = Totp.Code(secret, Totp.StepAt(Now));

        Assert.NotNull(Totp.Verify(secret, $" {code[..3]} {code[3..]}\n", Now, -1));
    }

    [Theory]
    [InlineData("")]
    [InlineData("     ")]
    [InlineData("12345")]
    [InlineData("1234567")]
    [InlineData("12345a")]
    [InlineData("-12345")]
    [InlineData("+123456")]
    [InlineData("１２３４５６")] // full-width digits are digits to char.IsDigit, not to us
    [InlineData("١٢٣٤٥٦")]
    public void Malformed_codes_are_refused(string code)
    {
        Assert.Null(Totp.Verify(RfcSecret, code, Now, -1));
    }

    [Fact]
    public void A_six_digit_prefix_of_the_eight_digit_code_is_not_accepted()
    {
        var time = DateTimeOffset.FromUnixTimeSeconds(59);

        Assert.Null(Totp.Verify(RfcSecret, "942870", time, -1));
        Assert.Null(Totp.Verify(RfcSecret, "94287082", time, -1));
    }
}
