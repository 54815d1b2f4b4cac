import { parseListeningSockets } from './listening-sockets.js';

// Lines as the kernel writes them: a listener on 0.0.0.0:7211, an established connection, a listener on [::]:8080.
const TCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000:1C2B 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 31337 1 0000000000000000 100 0 0 10 0
   1: 0100007F:1C2B 0100007F:D2F0 01 00000000:00000000 00:00000000 00000000     0        0 31338 1 0000000000000000 20 4 30 10 -1
`;
const TCP6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000000000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 4242 1 0000000000000000 100 0 0 10 0
`;

describe('parseListeningSockets', () => {
  it('keeps the listening sockets of an IPv4 table with their port and inode', () => {
    expect(parseListeningSockets(TCP)).toEqual([{ port: 7211, inode: 31337 }]);
  });

  it('reads IPv6 tables the same way', () => {
    expect(parseListeningSockets(TCP6)).toEqual([{ port: 8080, inode: 4242 }]);
  });

  it('gives nothing for an empty or garbled table', () => {
    expect(parseListeningSockets('')).toEqual([]);
    expect(parseListeningSockets('header\nnot a socket line\n   0: zz:zz 0 0A a b c d e f\n')).toEqual([]);
  });
});
