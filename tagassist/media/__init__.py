"""tagassist.media: finding, reading and importing photos and documents."""
