using System.Security.Cryptography;
using SecureIntake.Core.Codenames;
using SecureIntake.Core.Editors;

namespace SecureIntake.Core.Tests.Editors;

public sealed class PasswordPolicyTests
{
    [Fact]
    public void The_common_password_list_holds_ten_thousand_lower_case_entries()
    {
        Assert.Equal(10_000, PasswordPolicy.CommonPasswords.Count);
        Assert.All(PasswordPolicy.CommonPasswords, p => Assert.Equal(p.ToLowerInvariant(), p));
        Assert.Contains("password", PasswordPolicy.CommonPasswords);
        Assert.DoesNotContain(PasswordPolicy.CommonPasswords, p => p.StartsWith('#'));
    }

    [Theory]
    [InlineData("")]
    [InlineData("short")]
    [InlineData("elevenchars")]
    public void A_password_under_twelve_characters_is_refused(string password)
    {
        Assert.Equal("at least 12 characters", PasswordPolicy.Problem(password, "jane.doe"));
    }

    [Fact]
    public void Combining_marks_do_not_count_as_characters_of_their_own()
    {
        // Eleven "é" written as e + combining acute: 22 chars, but eleven characters to the person typing them.
        var decomposed = string.Concat(Enumerable.Repeat("e\u0301", 11));

        Assert.Equal("at least 12 characters", PasswordPolicy.Problem(decomposed, "jane.doe"));
        Assert.Null(PasswordPolicy.Problem(decomposed + "\u00e9", "jane.doe"));
    }

    [Fact]
    public void A_password_over_the_maximum_is_refused_and_the_maximum_is_not()
    {
        var longest = RandomLetters(PasswordPolicy.MaximumLength);

        Assert.Null(PasswordPolicy.Problem(longest, "jane.doe"));
        Assert.Equal("too long", PasswordPolicy.Problem(longest + "x", "jane.doe"));
    }

    [Theory]
    [InlineData("leavemealone")]
    [InlineData("LeaveMeAlone")]
    [InlineData("LEAVEMEALONE")]
    [InlineData("1QAZ2WSX3EDC")]
    [InlineData("qwerty123456")]
    public void A_listed_password_is_refused_whatever_its_case(string password)
    {
        Assert.Equal("one of the most common passwords", PasswordPolicy.Problem(password, "jane.doe"));
    }

    [Theory]
    [InlineData("password123456")]
    [InlineData("Sunshine2024")]
    [InlineData("iloveyou0000")]
    public void A_listed_password_with_digits_added_is_refused(string password)
    {
        Assert.Equal("one of the most common passwords", PasswordPolicy.Problem(password, "jane.doe"));
    }

    [Fact]
    public void Digits_in_front_of_a_listed_password_or_other_characters_after_it_are_not_the_same_thing()
    {
        Assert.Null(PasswordPolicy.Problem("2024sunshine", "jane.doe"));
        Assert.Null(PasswordPolicy.Problem("sunshine!!!!", "jane.doe"));
    }

    [Theory]
    [InlineData("jane.doe's secret garden")]
    [InlineData("my name is JANE.DOE ok")]
    public void A_password_containing_the_user_name_is_refused(string password)
    {
        Assert.Equal("must not contain the user name", PasswordPolicy.Problem(password, "Jane.Doe"));
    }

    [Fact]
    public void A_user_name_of_two_letters_is_not_looked_for()
    {
        Assert.Null(PasswordPolicy.Problem("always a calm harbour", "al"));
    }

    [Fact]
    public void A_long_random_passphrase_is_accepted()
    {
        var words = CodenameWordlist.Words;
        var passphrase = string.Join(' ', Enumerable.Range(0, 5).Select(_ => words[RandomNumberGenerator.GetInt32(words.Count)]));

        Assert.Null(PasswordPolicy.Problem(passphrase, "jane.doe"));
        Assert.Null(PasswordPolicy.Problem("violet kettle harbour quantum", "jane.doe"));
    }

    private static string RandomLetters(int count) =>
        new(Enumerable.Range(0, count).Select(_ => (char)('a' + RandomNumberGenerator.GetInt32(26))).ToArray());
}
