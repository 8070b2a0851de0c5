using System.ClientModel;
using Microsoft.Extensions.AI;
using OpenAI;

namespace Voxon.Engine;

/// <summary>
/// An OpenAI-compatible Chat Completions endpoint (OpenAI, Azure OpenAI's v1 endpoint, Ollama, vLLM, LM Studio...).
/// From the environment: <c>VOXON_MODEL_ENDPOINT</c>, <c>VOXON_MODEL</c>, <c>VOXON_API_KEY</c>.
/// </summary>
public sealed class ModelOptions
{
    /// <summary>Environment variable holding the endpoint base URL (e.g. http://localhost:11434/v1).</summary>
    public const string EndpointVariable = "VOXON_MODEL_ENDPOINT";

    /// <summary>Environment variable holding the model id.</summary>
    public const string ModelVariable = "VOXON_MODEL";

    /// <summary>Environment variable holding the API key.</summary>
    public const string ApiKeyVariable = "VOXON_API_KEY";

    /// <summary>Base URL of the API; null means api.openai.com.</summary>
    public Uri? Endpoint { get; set; }

    /// <summary>Model id, e.g. gpt-4o-mini or llama3.2.</summary>
    public string Model { get; set; } = "gpt-4o-mini";

    /// <summary>API key; local servers accept any non-empty value.</summary>
    public string? ApiKey { get; set; }

    /// <summary>Reads the model settings from the environment, or null when neither endpoint nor model nor key is set.</summary>
    /// <exception cref="VoxonConfigurationException">The endpoint is not an absolute http(s) URL.</exception>
    public static ModelOptions? FromEnvironment()
    {
        var endpoint = Environment.GetEnvironmentVariable(EndpointVariable);
        var model = Environment.GetEnvironmentVariable(ModelVariable);
        var key = Environment.GetEnvironmentVariable(ApiKeyVariable);
        if (string.IsNullOrWhiteSpace(endpoint) && string.IsNullOrWhiteSpace(model) && string.IsNullOrWhiteSpace(key))
        {
            return null;
        }

        Uri? uri = null;
        if (!string.IsNullOrWhiteSpace(endpoint) && (!Uri.TryCreate(endpoint, UriKind.Absolute, out uri) || uri.Scheme is not ("http" or "https")))
        {
            throw new VoxonConfigurationException("model settings", [$"{EndpointVariable} must be an absolute http(s) URL, got '{endpoint}'"]);
        }

        return new ModelOptions
        {
            Endpoint = uri,
            Model = string.IsNullOrWhiteSpace(model) ? "gpt-4o-mini" : model,
            ApiKey = key,
        };
    }

    /// <summary>Creates the <see cref="IChatClient"/> for this endpoint.</summary>
    public IChatClient CreateChatClient()
    {
        var clientOptions = new OpenAIClientOptions();
        if (Endpoint is not null)
        {
            clientOptions.Endpoint = Endpoint;
        }

        // Local OpenAI-compatible servers ignore the key but the client requires one.
        var credential = new ApiKeyCredential(string.IsNullOrEmpty(ApiKey) ? "unused" : ApiKey);
        return new OpenAI.Chat.ChatClient(Model, credential, clientOptions).AsIChatClient();
    }
}
