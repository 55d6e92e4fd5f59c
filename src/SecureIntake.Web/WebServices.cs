using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using SecureIntake.Core;
using SecureIntake.Web.Desk;
using SecureIntake.Web.Desk.Access;
using SecureIntake.Web.Listeners;
using SecureIntake.Web.Security;
using SecureIntake.Web.Witness;

namespace SecureIntake.Web;

public static class WebServices
{
    public static IServiceCollection AddSecureIntakeWeb(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<WebOptions>().Bind(configuration.GetSection(WebOptions.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<WebOptions>, WebOptionsValidator>();
        services.AddTrustedProxies();
        services.AddOptions<IntakeLimits>().Bind(configuration.GetSection(IntakeLimits.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<IntakeLimits>, IntakeLimitsValidator>();
        services.AddSingleton<MultipartSubmission>();
        services.AddSingleton<Witness.Admission.IntakeAdmission>();
        services.AddSingleton<WitnessText>();
        services.AddSingleton<WitnessSessions>();
        services.AddSingleton<FormTokens>();
        services.AddSingleton<CodenameCheck>();
        services.AddSecureIntakeCodenames(configuration);
        services.AddSingleton<WitnessPages>();
        services.AddHttpContextAccessor();
        services.AddSingleton<DeskText>();
        services.AddSingleton<Core.Editors.EditorLanguage>();
        services.AddSingleton<DeskPages>();
        services.AddSingleton<DeskWarnings>();
        services.AddSingleton<AdminPage>();
        services.AddDeskAuthorization();
        return services;
    }

    /// <summary>The pipeline in front of every audience's endpoints: hardening headers and host check first.</summary>
    public static WebApplication UseSecureIntakeWeb(this WebApplication app)
    {
        app.UseTrustedProxies();
        app.UseMiddleware<ResponseHardening>();
        app.UseStatusCodePages();
        app.UseMiddleware<AudienceSplit>();
        // After the split, so the witness side never reaches a desk scheme; no scheme is the default, so only desk routes look.
        app.UseAuthentication();
        app.UseAuthorization();
        return app;
    }

    /// <summary>Every route of the web role, witness and desk; the audience split keeps each on its own listener.</summary>
    public static WebApplication MapSecureIntakeRoutes(this WebApplication app)
    {
        app.MapSecureIntakeBasics();
        app.MapWitness();
        app.MapDesk();
        app.MapDeskDashboard();
        return app;
    }

    /// <summary>Endpoints every audience shares: robots.txt and a content-free health check.</summary>
    public static IEndpointRouteBuilder MapSecureIntakeBasics(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/robots.txt", () => TypedResults.Text("User-agent: *\nDisallow: /\n", "text/plain"));
        endpoints.MapGet("/healthz", () => TypedResults.Text("ok\n", "text/plain"));
        return endpoints;
    }
}
