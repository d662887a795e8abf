/* placeholder */ typedef int placeholder_keys;
