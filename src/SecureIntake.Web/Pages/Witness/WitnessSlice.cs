using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using RazorSlices;
using SecureIntake.Web.Pages.Shared;
using SecureIntake.Web.Witness;

namespace SecureIntake.Web.Pages.Witness;

/// <summary>A witness page or part of one: its texts come from the resources, in the model's language.</summary>
public abstract class WitnessSlice<TModel> : RazorSlice<TModel>
    where TModel : WitnessModel
{
    private WitnessText? _texts;

    protected Language Language => Model.Language;

    internal WitnessText Texts => _texts ??= Services.GetRequiredService<WitnessText>();

    protected IServiceProvider Services => ServiceProvider ?? throw new InvalidOperationException("a witness page renders with the app's services");

    protected string Text(string key) => Texts[Language, key];

    protected string Format(string key, params object[] values) => Texts.Format(Language, key, values);

    protected string Plural(string key, long count, params object[] values) => Texts.Plural(Language, key, count, values);

    protected string Size(long bytes) => Texts.Size(Language, bytes);

    /// <summary>A witness route in this page's language.</summary>
    protected string Link(string path) => $"/{Language.Code}{path}";
}

/// <summary>A whole witness page: the shared layout, its title, and links to the same page in the other languages.</summary>
public abstract class WitnessPage<TModel> : WitnessSlice<TModel>, IUsesLayout<_Layout, PageLayout>
    where TModel : WitnessModel
{
    /// <summary>The page's heading, and its title.</summary>
    protected abstract string Heading { get; }

    /// <summary>This page's route after the language, where the language links lead.</summary>
    protected abstract string Route { get; }

    public PageLayout LayoutModel
    {
        get
        {
            var newsroom = Services.GetRequiredService<IOptions<WebOptions>>().Value.NewsroomName;
            return new PageLayout(Language.Code, $"{Heading} · {newsroom}", Link(""), newsroom)
            {
                Direction = PageLayout.DirectionOf(Language.Culture),
            };
        }
    }

    protected override Task ExecuteSectionAsync(string sectionName) => sectionName == PageLayout.HeaderSection
        ? RenderPartialAsync<_LanguageLinks, LanguageLinksModel>(new LanguageLinksModel(Language, Route)).AsTask()
        : Task.CompletedTask;
}
