using System.ClientModel;
using OpenAI.Realtime;

namespace Voxon.Engine.Realtime;

/// <summary>
/// A realtime speech-to-speech endpoint speaking the OpenAI Realtime protocol: OpenAI itself or Azure OpenAI's v1
/// endpoint (<c>https://RESOURCE.openai.azure.com/openai/v1</c>, with the deployment name as <see cref="Model"/>).
/// From the environment: <c>VOXON_REALTIME_ENDPOINT</c>, <c>VOXON_REALTIME_MODEL</c>, <c>VOXON_API_KEY</c>.
/// </summary>
public sealed class RealtimeOptions
{
    /// <summary>Environment variable holding the endpoint base URL (e.g. https://api.openai.com/v1).</summary>
    public const string EndpointVariable = "VOXON_REALTIME_ENDPOINT";

    /// <summary>Environment variable holding the realtime model (or Azure deployment) name.</summary>
    public const string ModelVariable = "VOXON_REALTIME_MODEL";

    /// <summary>Default realtime model.</summary>
    public const string DefaultModel = "gpt-realtime";

    /// <summary>Base URL of the API (http(s) or ws(s)); null means api.openai.com.</summary>
    public Uri? Endpoint { get; set; }

    /// <summary>Realtime model id, or the deployment name on Azure OpenAI. Default <see cref="DefaultModel"/>.</summary>
    public string Model { get; set; } = DefaultModel;

    /// <summary>API key (sent as a bearer token, and as <c>api-key</c> to Azure OpenAI).</summary>
    public string? ApiKey { get; set; }

    /// <summary>Model that transcribes the user's speech. Default <c>gpt-4o-mini-transcribe</c>.</summary>
    public string TranscriptionModel { get; set; } = "gpt-4o-mini-transcribe";

    /// <summary>How many times a dropped connection is opened again before the conversation fails with
    /// <see cref="RealtimeConnectionException"/>; 0 fails at once. Default 3.</summary>
    public int MaxReconnectAttempts { get; set; } = 3;

    /// <summary>Wait before the first attempt to reconnect; each further attempt waits twice as long as the one
    /// before. Default 250 ms.</summary>
    public TimeSpan ReconnectDelay { get; set; } = TimeSpan.FromMilliseconds(250);

    /// <summary>Whether <see cref="Endpoint"/> is an Azure OpenAI resource.</summary>
    public bool IsAzure => Endpoint?.Host is { } host
        && (host.EndsWith(".openai.azure.com", StringComparison.OrdinalIgnoreCase)
            || host.EndsWith(".cognitiveservices.azure.com", StringComparison.OrdinalIgnoreCase)
            || host.EndsWith(".services.ai.azure.com", StringComparison.OrdinalIgnoreCase));

    /// <summary>Reads the realtime settings from the environment, or null when neither endpoint nor model is set.
    /// The key comes from <c>VOXON_API_KEY</c>.</summary>
    /// <exception cref="VoxonConfigurationException">The endpoint is not an absolute http(s) or ws(s) URL.</exception>
    public static RealtimeOptions? FromEnvironment()
    {
        var endpoint = Environment.GetEnvironmentVariable(EndpointVariable);
        var model = Environment.GetEnvironmentVariable(ModelVariable);
        if (string.IsNullOrWhiteSpace(endpoint) && string.IsNullOrWhiteSpace(model))
        {
            return null;
        }

        var options = new RealtimeOptions
        {
            Model = string.IsNullOrWhiteSpace(model) ? DefaultModel : model,
            ApiKey = Environment.GetEnvironmentVariable(ModelOptions.ApiKeyVariable),
        };
        if (!string.IsNullOrWhiteSpace(endpoint))
        {
            options.Endpoint = Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) ? uri : null;
            if (options.Endpoint is null)
            {
                throw new VoxonConfigurationException("realtime settings", [$"{EndpointVariable} must be an absolute http(s) or ws(s) URL, got '{endpoint}'"]);
            }
        }

        options.Validate();
        return options;
    }

    /// <summary>Checks the settings and throws one exception listing every problem.</summary>
    /// <exception cref="VoxonConfigurationException">A setting is invalid.</exception>
    public void Validate()
    {
        var errors = new List<string>();
        if (Endpoint is not null && (!Endpoint.IsAbsoluteUri || Endpoint.Scheme is not ("http" or "https" or "ws" or "wss")))
        {
            errors.Add($"realtime endpoint must be an absolute http(s) or ws(s) URL, got '{Endpoint}'");
        }

        if (string.IsNullOrWhiteSpace(Model))
        {
            errors.Add("realtime model must not be empty");
        }

        if (string.IsNullOrWhiteSpace(TranscriptionModel))
        {
            errors.Add("realtime transcription model must not be empty");
        }

        if (MaxReconnectAttempts < 0)
        {
            errors.Add($"realtime reconnect attempts must not be negative, got {MaxReconnectAttempts}");
        }

        if (ReconnectDelay < TimeSpan.Zero)
        {
            errors.Add($"realtime reconnect delay must not be negative, got {ReconnectDelay}");
        }

        if (errors.Count > 0)
        {
            throw new VoxonConfigurationException("realtime settings", errors);
        }
    }

    // OPENAI002: the realtime session client is experimental in the OpenAI SDK; Voxon's realtime engine is built on it.
#pragma warning disable OPENAI002
    /// <summary>Opens a realtime session (a WebSocket) to the endpoint.</summary>
    internal async Task<RealtimeSessionClient> ConnectAsync(CancellationToken cancellationToken)
    {
        Validate();
        var clientOptions = new RealtimeClientOptions();
        if (Endpoint is not null)
        {
            // The SDK maps http(s) to ws(s) and appends /realtime; it takes a ws(s) endpoint as given.
            clientOptions.Endpoint = Endpoint;
        }

        // Local servers ignore the key but the client requires one.
        var key = string.IsNullOrEmpty(ApiKey) ? "unused" : ApiKey;
        var client = new RealtimeClient(new ApiKeyCredential(key), clientOptions);
        var sessionOptions = new RealtimeSessionClientOptions();
        if (IsAzure)
        {
            sessionOptions.Headers["api-key"] = key;
        }

        return await client.StartConversationSessionAsync(Model, sessionOptions, cancellationToken);
    }
#pragma warning restore OPENAI002
}
