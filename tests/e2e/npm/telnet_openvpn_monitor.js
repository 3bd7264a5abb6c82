// Drives rtether's management TCP port with telnet-openvpn (npm), a
// third-party OpenVPN management client, the way a monitoring tool would:
// log in with the password, watch a restart through real-time states, then
// read the byte counts (bytecount, load-stats, status 2). Prints one JSON
// object; every wait is bounded.
//
//   node telnet_openvpn_monitor.js HOST PORT PASSWORD [--expect-refused]
'use strict';

const TelnetVPN = require('telnet-openvpn');

const [host, portText, password, mode] = process.argv.slice(2);
const expectRefused = mode === '--expect-refused';
const result = { authenticated: false, closed: false, states: [], bytecounts: [], successes: [],
                 lines: [], errors: [] };

function finish(code) {
  process.stdout.write(JSON.stringify(result) + '\n');
  process.exit(code);
}

// Never hang: the test's own timeout is longer.
setTimeout(() => {
  result.errors.push('timed out');
  finish(expectRefused && result.closed ? 0 : 1);
}, 20000).unref();

function waitFor(predicate, what, ms) {
  return new Promise((resolve, reject) => {
    const deadline = Date.now() + ms;
    const poll = () => {
      if (predicate()) return resolve();
      if (Date.now() > deadline) return reject(new Error('no ' + what + ' within ' + ms + ' ms'));
      setTimeout(poll, 20);
    };
    poll();
  });
}

const vpn = new TelnetVPN();
vpn.on('data', (data) => {
  if (data.state) result.states.push(data.state.map((field) => field.trim()));
  if (data.bytecount) result.bytecounts.push(data.bytecount.map((n) => Number(n)));
  if (data.success) result.successes.push(data.success.trim());
});
vpn.on('log', (line) => {
  if (typeof line === 'string') result.lines.push(line.replace(/\r$/, ''));
});
vpn.on('error', (error) => result.errors.push(String(error)));
vpn.on('close', () => {
  result.closed = true;
  if (expectRefused) finish(result.authenticated ? 1 : 0);
});

async function main() {
  // The management password is telnet-client's login password: it answers
  // the "ENTER PASSWORD:" prompt; the greeting is the shell prompt.
  await vpn.connect({
    host, port: Number(portText), password, timeout: 5000, sendTimeout: 300,
    shellPrompt: />INFO:OpenVPN Management Interface Version \d+/,
  });
  result.authenticated = true;
  if (expectRefused) return;
  await vpn.exec('state on');
  await vpn.exec('signal SIGUSR1');
  await waitFor(() => result.states.some((s) => s[1] === 'RECONNECTING') &&
                      result.states.some((s) => s[1] === 'CONNECTED'), 'restart', 10000);
  await vpn.exec('bytecount 1');
  await waitFor(() => result.bytecounts.length > 0, 'bytecount', 5000);
  await vpn.exec('load-stats');
  await vpn.exec('status 2');
  await vpn.exec('state');
  await vpn.end();
  finish(0);
}

main().catch((error) => {
  result.errors.push(String(error));
  finish(1);
});
