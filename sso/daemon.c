/* Placeholder: the daemon issue replaces this. */ typedef int daemon_placeholder;
