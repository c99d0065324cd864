// The C echo of bench/udp-floor.ts: receives on <port> (blocking recv) and sends each datagram back to <reply-port>.
//   echo <port> <reply-port>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>

int main(int argc, char **argv) {
  if (argc != 3) {
    fprintf(stderr, "usage: echo <port> <reply-port>\n");
    return 2;
  }
  int rx = socket(AF_INET, SOCK_DGRAM, 0), tx = socket(AF_INET, SOCK_DGRAM, 0);
  struct sockaddr_in a = {0};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(atoi(argv[1]));
  if (bind(rx, (struct sockaddr *)&a, sizeof a) != 0) { perror("bind"); return 1; }
  a.sin_port = htons(atoi(argv[2]));
  if (connect(tx, (struct sockaddr *)&a, sizeof a) != 0) { perror("connect"); return 1; }
  printf("READY\n");
  fflush(stdout);
  char buf[2048];
  for (;;) {
    int n = recv(rx, buf, sizeof buf, 0);
    if (n > 12 && buf[12]) return 0;
    if (n > 0) send(tx, buf, n, 0);
  }
}
