using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using RazorSlices;
using SecureIntake.Web.Desk;
using SecureIntake.Web.Pages.Shared;
using SecureIntake.Web.Witness;

namespace SecureIntake.Web.Pages.Desk;

/// <summary>A desk page or part of one: its texts come from the desk's resources, in the model's language.</summary>
public abstract class DeskSlice<TModel> : RazorSlice<TModel>
    where TModel : DeskModel
{
    private DeskText? _texts;

    protected Language Language => Model.Language;

    internal DeskText Texts => _texts ??= Services.GetRequiredService<DeskText>();

    protected IServiceProvider Services => ServiceProvider ?? throw new InvalidOperationException("a desk page renders with the app's services");

    protected string Text(string key, params object[] values) => Texts.Text(Language, key, values);

    protected string Plural(string key, long count, params object[] values) => Texts.Plural(Language, key, count, values);

    protected string Status(string value) => Texts.Value(Language, "Status", value);

    protected string Priority(string value) => Texts.Value(Language, "Priority", value);

    protected string Channel(string value) => Texts.Value(Language, "Channel", value);

    protected string Minute(DateTimeOffset time) => DeskText.Minute(Language, time);

    protected string Number(long value) => DeskText.Number(Language, value);
}

/// <summary>A whole desk page: the shared layout, its title, and the desk's navigation in the header.</summary>
public abstract class DeskPage<TModel> : DeskSlice<TModel>, IUsesLayout<_Layout, PageLayout>
    where TModel : DeskModel
{
    /// <summary>The page's heading, and its title.</summary>
    protected abstract string Heading { get; }

    public PageLayout LayoutModel
    {
        get
        {
            var newsroom = Services.GetRequiredService<IOptions<WebOptions>>().Value.NewsroomName;
            return new PageLayout(Language.Code, Text("Page_Title", Heading, newsroom), "/desk", Text("Page_Home", newsroom))
            {
                Direction = PageLayout.DirectionOf(Language.Culture),
                BodyClass = "desk",
            };
        }
    }

    protected override Task ExecuteSectionAsync(string sectionName) =>
        sectionName == PageLayout.HeaderSection && Model is { Editor: { } editor, FormToken: { } token }
            ? RenderPartialAsync<_DeskNav, NavModel>(new NavModel(Language, editor, token)).AsTask()
            : Task.CompletedTask;
}
