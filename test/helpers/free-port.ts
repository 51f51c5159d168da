// Free loopback ports for servers that tests and benchmarks start, so two runs on one machine never fight over a port.
import net from 'node:net';

function listenOnAnyPort(): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => resolve(srv));
  });
}

/** `count` different loopback ports nothing listens on now; another process may still take one before the caller binds it. */
export async function freePorts(count: number): Promise<number[]> {
  // All are held open until each is known, so the operating system cannot hand out one port twice.
  const servers = await Promise.all(Array.from({ length: count }, listenOnAnyPort));
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

/** A loopback port nothing listens on now; it may still be taken before the caller binds it. */
export async function freePort(): Promise<number> {
  const [port] = await freePorts(1);
  return port!;
}
