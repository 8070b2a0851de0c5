using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;
using Voxon;
using Voxon.Storage;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers Voxon in a service collection.</summary>
public static class VoxonServiceCollectionExtensions
{
    /// <summary>
    /// Adds a singleton <see cref="VoxonClient"/> built from <see cref="VoxonOptions"/> (configured by
    /// <paramref name="configure"/>), and its <see cref="SessionStorage"/>. The options are validated when the client
    /// is first resolved; the container's <see cref="ILoggerFactory"/> and <see cref="TimeProvider"/> are used
    /// unless the options set their own.
    /// </summary>
    /// <example><c>services.AddVoxon(o => o.UsePostgres(connectionString));</c></example>
    public static IServiceCollection AddVoxon(this IServiceCollection services, Action<VoxonOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton(provider =>
        {
            var options = new VoxonOptions();
            if (provider.GetService<TimeProvider>() is { } time)
            {
                options.TimeProvider = time;
            }

            options.LoggerFactory = provider.GetService<ILoggerFactory>();
            configure?.Invoke(options);
            return options;
        });
        services.TryAddSingleton(provider => new VoxonClient(provider.GetRequiredService<VoxonOptions>()));
        services.TryAddSingleton(provider => provider.GetRequiredService<VoxonClient>().Storage);
        return services;
    }
}
