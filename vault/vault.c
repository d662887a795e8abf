/* placeholder */ typedef int placeholder_vault;
