using System.Net;
using System.Net.Sockets;

namespace Voxon.Tests.TestSupport;

/// <summary>Starts an <see cref="HttpListener"/> on 127.0.0.1 (only) and a free port, for the loopback test servers.</summary>
public static class LoopbackListener
{
    /// <summary>A started listener and its port; a port taken between the probe and the start is tried again.</summary>
    public static (HttpListener Listener, int Port) Start()
    {
        for (var attempt = 0; ; attempt++)
        {
            var port = FreePort();
            var listener = new HttpListener();
            listener.Prefixes.Add($"http://127.0.0.1:{port}/");
            try
            {
                listener.Start();
                return (listener, port);
            }
            catch (HttpListenerException) when (attempt < 5)
            {
                listener.Close();
            }
        }
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }
}
