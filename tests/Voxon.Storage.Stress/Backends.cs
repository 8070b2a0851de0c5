namespace Voxon.Storage.Stress;

/// <summary>The storage a stress child uses: <c>file</c> with a folder.</summary>
public static class Backends
{
    public static SessionStorage Create(string backend, string target) => backend switch
    {
        "file" => new FileSessionStorage(target),
        _ => throw new ArgumentException($"unknown backend '{backend}'"),
    };
}
