/* placeholder */ typedef int placeholder_cert;
