"""Resources: staff and volunteers with skills, teams and shifts; vehicles; sampling teams and lab capacity; the gaps."""
