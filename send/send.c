/* Placeholder: replaced by the sender issue. */ typedef int send_placeholder;
