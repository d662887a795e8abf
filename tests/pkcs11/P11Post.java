import java.io.FileInputStream;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.Provider;
import java.security.Security;
import java.security.cert.CertificateFactory;
import javax.net.ssl.*;

/* POST a SOAP message with the vault's certificate through SunPKCS11: CONFIG URL CA.pem MESSAGE */
public class P11Post {
	public static void main(String[] a) throws Exception {
		Provider p = Security.getProvider("SunPKCS11").configure(a[0]);
		Security.addProvider(p);	/* so that TLS finds its signatures */
		KeyStore ks = KeyStore.getInstance("PKCS11", p);
		ks.load(null, "no PIN is needed: ignored".toCharArray());
		KeyManagerFactory kmf = KeyManagerFactory.getInstance("NewSunX509");
		kmf.init(ks, null);
		KeyStore ts = KeyStore.getInstance("PKCS12");
		ts.load(null, null);
		ts.setCertificateEntry("ca", CertificateFactory.getInstance("X.509")
		    .generateCertificate(new FileInputStream(a[2])));
		TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
		tmf.init(ts);
		SSLContext ctx = SSLContext.getInstance("TLS");
		ctx.init(kmf.getKeyManagers(), tmf.getTrustManagers(), null);
		HttpsURLConnection c = (HttpsURLConnection) new URL(a[1]).openConnection();
		c.setSSLSocketFactory(ctx.getSocketFactory());
		c.setDoOutput(true);
		c.setRequestProperty("Content-Type", "text/xml; charset=utf-8");
		c.setRequestProperty("SOAPAction", "\"urn:java\"");
		c.getOutputStream().write(Files.readAllBytes(Path.of(a[3])));
		System.out.println("HTTP " + c.getResponseCode());
		System.out.write(c.getInputStream().readAllBytes());
		System.out.flush();
	}
}
