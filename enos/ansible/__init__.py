"""Remote execution with Ansible: the inventory writer, the playbook runner, shipped playbooks."""
