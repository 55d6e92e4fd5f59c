using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using SecureIntake.Core.Codenames;

namespace SecureIntake.Core.Tests.Codenames;

public sealed class CodenamesTests
{
    private static readonly string Pepper = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    // The cheapest parameters validation allows: these tests are about behaviour, not cost.
    private static Core.Codenames.Codenames Make(string? pepper = null) =>
        new(Options.Create(new CodenameOptions { Pepper = pepper ?? Pepper, MemoryKiB = 8 * 1024, Iterations = 1 }));

    [Fact]
    public void A_codename_is_seven_words_from_the_list_worth_over_80_bits()
    {
        var codename = Make().Generate();
        var words = codename.Split(' ');

        Assert.Equal(7, words.Length);
        Assert.All(words, w => Assert.Contains(w, CodenameWordlist.Words));
        Assert.True(words.Length * Math.Log2(CodenameWordlist.Words.Count) >= 80);
    }

    [Fact]
    public void Codenames_do_not_repeat()
    {
        var codenames = Make();

        var made = Enumerable.Range(0, 1000).Select(_ => codenames.Generate()).ToHashSet(StringComparer.Ordinal);

        Assert.Equal(1000, made.Count);
    }

    [Fact]
    public void The_same_codename_typed_differently_finds_the_same_thread()
    {
        var codenames = Make();
        var codename = codenames.Generate();

        var original = codenames.Derive(codename);
        var retyped = codenames.Derive("  " + codename.ToUpperInvariant().Replace(" ", "   \t", StringComparison.Ordinal) + "\n");

        Assert.Equal(original.Locator, retyped.Locator);
        Assert.Equal(original.UnlockKey, retyped.UnlockKey);
    }

    [Fact]
    public void Locator_and_unlock_key_are_independent_and_depend_on_the_pepper()
    {
        var codename = Make().Generate();

        var here = Make().Derive(codename);
        var elsewhere = Make(Convert.ToBase64String(RandomNumberGenerator.GetBytes(32))).Derive(codename);

        Assert.Equal(32, here.Locator.Length);
        Assert.NotEqual(here.Locator, here.UnlockKey);
        Assert.NotEqual(here.Locator, elsewhere.Locator);
        Assert.NotEqual(Make().Derive(Make().Generate()).Locator, here.Locator);
    }

    [Fact]
    public void Over_long_input_is_refused_before_any_hashing()
    {
        Assert.Throws<CodenameRejectedException>(() => Make().Derive(new string('a', Core.Codenames.Codenames.MaxInputCharacters + 1)));
    }

    [Theory]
    [InlineData("", 7, "Pepper")]
    [InlineData("c2hvcnQ=", 7, "Pepper")]
    [InlineData(null, 6, "Words")]
    public void Weak_settings_are_refused_at_start_up_naming_the_setting(string? pepper, int words, string setting)
    {
        var result = new CodenameOptionsValidator().Validate(null, new CodenameOptions { Pepper = pepper ?? Pepper, Words = words });

        Assert.True(result.Failed);
        Assert.Contains($"Codenames:{setting}", result.FailureMessage, StringComparison.Ordinal);
    }
}
