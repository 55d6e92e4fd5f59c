using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using SecureIntake.Core.Editors;
using SecureIntake.Testing;

namespace SecureIntake.Core.Tests.Editors;

public sealed class PasswordHasherTests
{
    // These tests are about behaviour and format, not cost: 1 MiB, one pass.
    private static readonly PasswordHasher Cheap = new(memoryKiB: 1024, iterations: 1);

    [Fact]
    public void A_hash_verifies_its_password_and_refuses_any_other()
    {
        var encoded = Cheap.Hash("grüne Tomaten am Fenster 🍅");

        Assert.True(Cheap.Verify("grüne Tomaten am Fenster 🍅", encoded));
        Assert.False(Cheap.Verify("Grüne Tomaten am Fenster 🍅", encoded));
        Assert.False(Cheap.Verify("grüne Tomaten am Fenster", encoded));
        Assert.False(Cheap.Verify("", encoded));
    }

    [Fact]
    public void Two_hashes_of_the_same_password_differ_by_their_salt()
    {
        var first = Cheap.Hash("same password twice");
        var second = Cheap.Hash("same password twice");

        Assert.NotEqual(first, second);
        Assert.NotEqual(first.Split('$')[4], second.Split('$')[4]);
        Assert.True(Cheap.Verify("same password twice", first));
        Assert.True(Cheap.Verify("same password twice", second));
    }

    [Fact]
    public void The_default_cost_and_shape_are_written_into_the_hash()
    {
        var encoded = new PasswordHasher().Hash("at the default cost");
        var parts = encoded.Split('$');

        Assert.Equal(["", "argon2id", "v=19", "m=65536,t=3,p=1"], parts[..4]);
        Assert.Equal(22, parts[4].Length); // 16 bytes of salt, base64 without padding
        Assert.Equal(43, parts[5].Length); // 32 bytes of hash
    }

    [Fact]
    public void A_known_vector_from_the_reference_argon2_tool_verifies()
    {
        // `echo -n password | argon2 somesalt -id -t 3 -m 16 -p 1 -l 32 -e` (Debian's argon2 0~20171227).
        const string Reference = "$argon2id$v=19$m=65536,t=3,p=1$c29tZXNhbHQ$noeJyLQoNCIK/AAIWsc6zDCGUSFplKu/3dabJZIDLv0";

        Assert.True(new PasswordHasher().Verify("password", Reference));
        Assert.False(new PasswordHasher().Verify("Password", Reference));
    }

    [Fact]
    public async Task A_hash_made_here_is_the_one_the_reference_argon2_tool_makes()
    {
        var password = "pässwörd " + Convert.ToHexString(RandomNumberGenerator.GetBytes(8));
        var salt = Convert.ToHexString(RandomNumberGenerator.GetBytes(8)); // the tool takes the salt as text

        var reference = await ReferenceHashAsync(password, salt, ["-t", "1", "-k", "1024", "-p", "1", "-l", "32"]);

        Assert.Equal(reference, Cheap.Hash(password, Encoding.ASCII.GetBytes(salt)));
        Assert.True(Cheap.Verify(password, reference));
    }

    [Fact]
    public async Task Verify_reads_cost_parallelism_and_lengths_from_the_stored_string()
    {
        var password = "another machine's choice " + Convert.ToHexString(RandomNumberGenerator.GetBytes(8));
        var reference = await ReferenceHashAsync(password, "a longer salt of 24 bytes", ["-t", "2", "-k", "2048", "-p", "2", "-l", "24"]);

        Assert.StartsWith("$argon2id$v=19$m=2048,t=2,p=2$", reference, StringComparison.Ordinal);
        Assert.True(Cheap.Verify(password, reference));
        Assert.False(Cheap.Verify(password + "!", reference));
        Assert.True(Cheap.NeedsRehash(reference));
    }

    [Fact]
    public void Raising_the_cost_keeps_old_hashes_working_and_asks_for_a_rehash()
    {
        var old = Cheap.Hash("a password from last year");
        var raised = new PasswordHasher(memoryKiB: 2048, iterations: 2);

        Assert.True(raised.Verify("a password from last year", old));
        Assert.True(raised.NeedsRehash(old));
        Assert.False(Cheap.NeedsRehash(old));
        Assert.False(raised.NeedsRehash(raised.Hash("a password from last year")));
    }

    [Fact]
    public void Lowering_the_cost_does_not_weaken_hashes_made_at_the_higher_one()
    {
        var strong = new PasswordHasher(memoryKiB: 2048, iterations: 2).Hash("a password from last year");

        Assert.False(Cheap.NeedsRehash(strong));
        Assert.True(new PasswordHasher(memoryKiB: 2048, iterations: 3).NeedsRehash(strong));
        Assert.True(new PasswordHasher(memoryKiB: 4096, iterations: 1).NeedsRehash(strong));
    }

    [Theory]
    [InlineData("m=1024,t=1,p=1", "m=1024,t=2,p=1")]
    [InlineData("m=1024,t=1,p=1", "m=2048,t=1,p=1")]
    [InlineData("$argon2id$", "$argon2i$")]
    public void A_stored_string_with_its_settings_altered_no_longer_verifies(string from, string to)
    {
        var encoded = Cheap.Hash("tamper with me");

        Assert.False(Cheap.Verify("tamper with me", encoded.Replace(from, to, StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData("")]
    [InlineData("not a hash")]
    [InlineData("$argon2id$v=19$m=1024,t=1,p=1$c29tZXNhbHQ")]
    [InlineData("$argon2id$v=19$m=1024,t=1,p=1$c29tZXNhbHQ$noeJyLQoNCIK/AAIWsc6zDCGUSFplKu/3dabJZIDLv0$")]
    [InlineData("argon2id$v=19$m=1024,t=1,p=1$c29tZXNhbHQ$noeJyLQoNCIK/AAIWsc6zDCGUSFplKu/3dabJZIDLv0")]
    [InlineData("$argon2d$v=19$m=1024,t=1,p=1$c29tZXNhbHQ$noeJyLQoNCIK/AAIWsc6zDCGUSFplKu/3dabJZIDLv0")]
    [InlineData("$argon2id$v=16$m=1024,t=1,p=1$c29tZXNhbHQ$noeJyLQoNCIK/AAIWsc6zDCGUSFplKu/3dabJZIDLv0")]
    [InlineData("$argon2id$m=1024,t=1,p=1$c29tZXNhbHQ$noeJyLQoNCIK/AAIWsc6zDCGUSFplKu/3dabJZIDLv0")]
    [InlineData("$argon2id$v=19$t=1,m=1024,p=1$c29tZXNhbHQ$noeJyLQoNCIK/AAIWsc6zDCGUSFplKu/3dabJZIDLv0")]
    [InlineData("$argon2id$v=19$m=1024,t=1$c29tZXNhbHQ$noeJyLQoNCIK/AAIWsc6zDCGUSFplKu/3dabJZIDLv0")]
    [InlineData("$argon2id$v=19$m=-1024,t=1,p=1$c29tZXNhbHQ$noeJyLQoNCIK/AAIWsc6zDCGUSFplKu/3dabJZIDLv0")]
    [InlineData("$argon2id$v=19$m= 1024,t=1,p=1$c29tZXNhbHQ$noeJyLQoNCIK/AAIWsc6zDCGUSFplKu/3dabJZIDLv0")]
    [InlineData("$argon2id$v=19$m=99999999999999999999,t=1,p=1$c29tZXNhbHQ$noeJyLQoNCIK/AAIWsc6zDCGUSFplKu/3dabJZIDLv0")]
    [InlineData("$argon2id$v=19$m=1024,t=1,p=1$c29tZXNhbHQ=$noeJyLQoNCIK/AAIWsc6zDCGUSFplKu/3dabJZIDLv0")]
    [InlineData("$argon2id$v=19$m=1024,t=1,p=1$c29t ZXNhbHQ$noeJyLQoNCIK/AAIWsc6zDCGUSFplKu/3dabJZIDLv0")]
    [InlineData("$argon2id$v=19$m=1024,t=1,p=1$c29tZXNhbHQ$noeJyLQoNCIK_AAIWsc6zDCGUSFplKu-3dabJZIDLv0")]
    [InlineData("$argon2id$v=19$m=1024,t=1,p=1$c29tZXNhbHQ$n")]
    [InlineData("$argon2id$v=19$m=1024,t=1,p=1$c2FsdA$noeJyLQoNCIK/AAIWsc6zDCGUSFplKu/3dabJZIDLv0")] // 4-byte salt
    [InlineData("$argon2id$v=19$m=1024,t=1,p=1$c29tZXNhbHQ$bm9lSnlMUW9OQ0lL")] // 12-byte hash
    public void Malformed_strings_are_refused_without_an_exception(string encoded)
    {
        Assert.False(Cheap.Verify("password", encoded));
        Assert.True(Cheap.NeedsRehash(encoded));
    }

    [Theory]
    [InlineData("m=1048577,t=1,p=1")] // over 1 GiB
    [InlineData("m=1024,t=101,p=1")]
    [InlineData("m=1024,t=0,p=1")]
    [InlineData("m=1024,t=1,p=0")]
    [InlineData("m=1024,t=1,p=17")]
    [InlineData("m=7,t=1,p=1")] // under Argon2's 8 KiB a lane
    [InlineData("m=15,t=1,p=2")]
    public void A_stored_string_asking_for_an_absurd_cost_is_refused_before_any_hashing(string settings)
    {
        var encoded = string.Create(CultureInfo.InvariantCulture,
            $"$argon2id$v=19${settings}$c29tZXNhbHQ$noeJyLQoNCIK/AAIWsc6zDCGUSFplKu/3dabJZIDLv0");

        Assert.False(Cheap.Verify("password", encoded));
    }

    [Fact]
    public void A_null_stored_string_is_refused_like_a_malformed_one()
    {
        Assert.False(Cheap.Verify("password", null!));
        Assert.True(Cheap.NeedsRehash(null!));
    }

    [Theory]
    [InlineData(7, 1)]
    [InlineData(1024 * 1024 + 1, 1)]
    [InlineData(1024, 0)]
    [InlineData(1024, 101)]
    public void A_hasher_with_an_absurd_cost_cannot_be_made(int memoryKiB, int iterations)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new PasswordHasher(memoryKiB, iterations));
    }

    private static async Task<string> ReferenceHashAsync(string password, string salt, string[] settings)
    {
        var argon2 = ExternalTool.Require("argon2", "argon2");
        var result = await ExternalTool.RunAsync(argon2, [salt, "-id", .. settings, "-e"], Encoding.UTF8.GetBytes(password));
        return result.EnsureSuccess("argon2").OutputText.Trim();
    }
}
