// A self-signed certificate for a private test server, so clients can use STARTTLS (RFC 6120 §5)
// on loopback as they would against a production server. Made with the system's openssl.
import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface TestCertificate {
  certFile: string;
  keyFile: string;
  /** Certificate followed by its key in one PEM file (ejabberd's `certfiles`). */
  combinedFile: string;
}

/** Where makeTestCertificate puts its files under `dir`. */
export function testCertificatePaths(dir: string): TestCertificate {
  const certs = join(dir, "certs");
  return {
    certFile: join(certs, "server.crt"),
    keyFile: join(certs, "server.key"),
    combinedFile: join(certs, "server.pem"),
  };
}

/** Writes a P-256 key and a certificate for `domains` (first one as CN, all as DNS SANs) into dir/certs. */
export function makeTestCertificate(dir: string, domains: readonly string[]): TestCertificate {
  const { certFile, keyFile, combinedFile } = testCertificatePaths(dir);
  mkdirSync(join(dir, "certs"), { recursive: true });
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-keyout",
      keyFile,
      "-out",
      certFile,
      "-days",
      "2",
      "-subj",
      `/CN=${domains[0] ?? "localhost"}`,
      "-addext",
      `subjectAltName=${domains.map((d) => `DNS:${d}`).join(",")}`,
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  writeFileSync(combinedFile, readFileSync(certFile, "utf8") + readFileSync(keyFile, "utf8"));
  return { certFile, keyFile, combinedFile };
}
