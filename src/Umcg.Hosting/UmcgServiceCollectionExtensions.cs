using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using Umcg.Scheduling;

namespace Umcg.Hosting;

/// <summary>Registers a hosted Umcg scheduler.</summary>
public static class UmcgServiceCollectionExtensions
{
    /// <summary>The configuration section <see cref="AddUmcg(IServiceCollection, IConfiguration, Action{UmcgHostingOptions}?)"/> binds: <c>Umcg</c>.</summary>
    public const string SectionName = "Umcg";

    /// <summary>
    /// Adds a scheduler that starts with the host and drains when it stops: <see cref="UmcgHost"/> and
    /// <see cref="UmcgScheduler"/> as singletons, and <see cref="UmcgHostedService"/>. Its settings
    /// (<see cref="UmcgHostingOptions"/>, default policy <see cref="UmcgPolicyKind.Priority"/>) are checked when the
    /// host starts, by the library's own rules; bad ones stop the host with an <see cref="OptionsValidationException"/>
    /// that lists every error. Calling it again only adds <paramref name="configure"/>.
    /// </summary>
    public static IServiceCollection AddUmcg(this IServiceCollection services, Action<UmcgHostingOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        var options = services.AddOptions<UmcgHostingOptions>().ValidateOnStart();
        if (configure is not null)
        {
            options.Configure(configure);
        }

        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<UmcgHostingOptions>, UmcgHostingOptionsValidator>());
        services.TryAddSingleton<UmcgHost>();
        services.TryAddSingleton(sp => sp.GetRequiredService<UmcgHost>().Scheduler);
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IHostedService, UmcgHostedService>());
        return services;
    }

    /// <summary>
    /// As <see cref="AddUmcg(IServiceCollection, Action{UmcgHostingOptions}?)"/>, with the settings bound from the
    /// section <c>Umcg</c> of <paramref name="configuration"/> (keys are <see cref="UmcgHostingOptions"/>' property
    /// names: <c>Umcg:MaxWorkers</c>, <c>Umcg:Admission</c>, ...), then <paramref name="configure"/>.
    /// </summary>
    public static IServiceCollection AddUmcg(this IServiceCollection services, IConfiguration configuration, Action<UmcgHostingOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddOptions<UmcgHostingOptions>().Bind(configuration.GetSection(SectionName));
        return services.AddUmcg(configure);
    }
}
