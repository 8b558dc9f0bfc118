"""Write a small capture with scapy: three HTTP sessions, a SYN port scan and a DNS query.

Run by the cicflowmeter tool environment's Python (scapy 2.5 lives there, not in the project's
venv): `python build_pcap.py out.pcap`. Frames carry an Ethernet layer, as cicflowmeter needs.
Timestamps are set, so durations and rates are known: each HTTP session has 7 packets, one every
10, 20 and 30 ms; the scan sends 40 SYNs (ports 20-59), each answered by a RST.
"""

import sys

from scapy.all import DNS, DNSQR, IP, TCP, UDP, Ether, Raw, wrpcap

CLIENT, SERVER, RESOLVER = "192.168.10.5", "192.168.10.50", "192.168.10.3"
SCANNER = "205.174.165.73"
START = 1499430000.0  # 2017-07-07, a CICIDS2017 Friday
REQUEST = b"GET /index.html HTTP/1.1\r\nHost: server\r\n\r\n"
RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Length: 600\r\n\r\n" + b"x" * 600


class Capture:
    def __init__(self) -> None:
        self.packets, self.clock = [], START

    def add(self, src: str, dst: str, layer, gap: float) -> None:
        self.clock += gap
        frame = Ether(src="00:00:00:00:00:01", dst="00:00:00:00:00:02") / IP(src=src, dst=dst)
        frame = frame / layer
        frame.time = self.clock
        self.packets.append(frame)


def http_session(capture: Capture, sport: int, gap: float) -> None:
    c, s = (CLIENT, SERVER), (SERVER, CLIENT)
    end = 101 + len(REQUEST)
    capture.add(*c, TCP(sport=sport, dport=80, flags="S", seq=100, window=29200), gap)
    capture.add(*s, TCP(sport=80, dport=sport, flags="SA", seq=300, ack=101, window=28960), gap)
    capture.add(*c, TCP(sport=sport, dport=80, flags="A", seq=101, ack=301, window=229), gap)
    capture.add(*c, TCP(sport=sport, dport=80, flags="PA", seq=101, ack=301) / Raw(REQUEST), gap)
    capture.add(*s, TCP(sport=80, dport=sport, flags="PA", seq=301, ack=end) / Raw(RESPONSE), gap)
    capture.add(*c, TCP(sport=sport, dport=80, flags="FA", seq=end, ack=301 + len(RESPONSE)), gap)
    capture.add(*s, TCP(sport=80, dport=sport, flags="FA", seq=301 + len(RESPONSE), ack=end + 1),
                gap)


def main(path: str) -> None:
    capture = Capture()
    for session in range(3):
        http_session(capture, 50000 + session, 0.01 * (session + 1))
    for port in range(20, 60):
        capture.add(SCANNER, SERVER, TCP(sport=40000, dport=port, flags="S", window=1024), 0.0005)
        capture.add(SERVER, SCANNER, TCP(sport=port, dport=40000, flags="RA", window=0), 0.0002)
    query = UDP(sport=53000, dport=53) / DNS(rd=1, qd=DNSQR(qname="example.com"))
    capture.add(CLIENT, RESOLVER, query, 0.05)
    wrpcap(path, capture.packets)


if __name__ == "__main__":
    main(sys.argv[1])
