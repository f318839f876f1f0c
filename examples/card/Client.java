// SPDX-License-Identifier: LGPL-2.1-or-later
// A Java client with the usual Java timeout policy: a connect timeout and a
// read timeout (Socket.setSoTimeout), no write timeout — java.net has none,
// and no TCP_USER_TIMEOUT.  It checks the connection (PING/PONG), keeps it
// idle ("pooled"), uploads a request body, prints "request sent", and waits
// for the answer.  Run as a single-file program: java Client.java HOST PORT
// [CONNECT_MS READ_MS].  Exit: 0 an answer, 1 an I/O error, 2 EOF, 3 connect.
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;

public class Client {
    public static void main(String[] a) throws Exception {
        int connectMs = a.length > 2 ? Integer.parseInt(a[2]) : 3000;
        int readMs = a.length > 3 ? Integer.parseInt(a[3]) : 8000;
        Socket s = new Socket();
        try {
            s.connect(new InetSocketAddress(a[0], Integer.parseInt(a[1])), connectMs);
        } catch (java.io.IOException e) {
            System.out.println("connect: " + e);
            System.exit(3);
        }
        s.setSoTimeout(readMs);
        try {
            OutputStream out = s.getOutputStream();
            InputStream in = s.getInputStream();
            out.write("PING\n".getBytes());
            byte[] pong = in.readNBytes(5);
            if (pong.length < 5) {
                System.out.println("no PONG");
                System.exit(2);
            }
            System.out.println("pooled");
            Thread.sleep(2000);
            byte[] body = new byte[4 << 20];
            out.write("POST\n".getBytes());
            out.write(body);
            out.flush();
            System.out.println("request sent");
            int c = in.read();
            if (c < 0) {
                System.out.println("EOF: the server closed the connection");
                System.exit(2);
            }
            System.out.println("answer");
        } catch (java.io.IOException e) {
            System.out.println("io: " + e);
            System.exit(1);
        }
    }
}
