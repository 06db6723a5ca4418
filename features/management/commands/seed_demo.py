"""Load the demo magazine. Safe to run again: what exists is left as it is."""

import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.core.files.base import ContentFile
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone
from PIL import Image, ImageDraw

from features import demo
from features.models import (
    Author,
    Byline,
    Download,
    DownloadCategory,
    Feature,
    Section,
    Status,
)

LONDON = ZoneInfo("Europe/London")
PALETTE = [(0, 94, 165), (0, 112, 60), (145, 35, 120), (180, 80, 0), (40, 60, 90)]


def london(value):
    return datetime.strptime(value, "%Y-%m-%d %H:%M").replace(tzinfo=LONDON)


def hero_image(index):
    """A simple generated illustration: bands of colour and circles, as a JPEG."""
    width, height = 1600, 900
    base = PALETTE[index % len(PALETTE)]
    image = Image.new("RGB", (width, height), base)
    draw = ImageDraw.Draw(image)
    for band in range(12):
        shade = tuple(min(255, channel + band * 12) for channel in base)
        draw.rectangle([0, band * height // 12, width, (band + 1) * height // 12], fill=shade)
    for circle in range(5):
        x = (index * 211 + circle * 317) % width
        y = (index * 97 + circle * 173) % height
        radius = 80 + circle * 30
        draw.ellipse([x - radius, y - radius, x + radius, y + radius], outline="white", width=6)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=82)
    return buffer.getvalue()


def crossword_pdf():
    """A two-page PDF: the grid, then the clues page."""
    pages = []
    grid = Image.new("RGB", (1240, 1754), "white")
    draw = ImageDraw.Draw(grid)
    size, cell, left, top = 13, 80, 100, 300
    draw.text((left, 120), "Crossword, March 2009", fill="black", font_size=56)
    for row in range(size):
        for col in range(size):
            box = [
                left + col * cell,
                top + row * cell,
                left + (col + 1) * cell,
                top + (row + 1) * cell,
            ]
            black = row % 2 == 1 and col % 2 == 1
            draw.rectangle(box, fill="black" if black else "white", outline="black", width=3)
    pages.append(grid)
    clues = Image.new("RGB", (1240, 1754), "white")
    draw = ImageDraw.Draw(clues)
    draw.text((100, 120), "Clues", fill="black", font_size=56)
    lines = [
        "Across",
        "1 Leader who holds the space for others (11)",
        "7 Shared by co-authors, said once (4)",
        "Down",
        "1 Question asked before treatment (7)",
        "2 What a feed reader polls for (4)",
    ]
    for number, line in enumerate(lines):
        draw.text((100, 260 + number * 70), line, fill="black", font_size=36)
    pages.append(clues)
    buffer = io.BytesIO()
    pages[0].save(buffer, "PDF", save_all=True, append_images=pages[1:], resolution=150)
    return buffer.getvalue()


class Command(BaseCommand):
    help = "Load the demo magazine: sections, authors, features and a crossword download."

    @transaction.atomic
    def handle(self, *args, **options):
        sections = {}
        for name, slug, description, position in demo.SECTIONS:
            sections[slug], _ = Section.objects.get_or_create(
                slug=slug,
                defaults={"name": name, "description": description, "position": position},
            )
        authors = {}
        for slug, (name, job_title, organisation, bio) in demo.AUTHORS.items():
            authors[slug], _ = Author.objects.get_or_create(
                slug=slug,
                defaults={
                    "name": name, "job_title": job_title,
                    "organisation": organisation, "bio": bio,
                },
            )  # fmt: skip

        crossword = self.crossword()
        created = 0
        for index, row in enumerate(demo.FEATURES):
            slug, title, section, author_slugs, date, tags, standfirst, body, state = row
            existing = Feature.objects.filter(slug=slug).first()
            if existing:
                if state == "scheduled":
                    self.keep_in_future(existing)
                continue
            feature = Feature(
                slug=slug, title=title, section=sections[section],
                standfirst=standfirst, body=body,
            )  # fmt: skip
            if state == "scheduled":
                feature.status = Status.PUBLISHED
                feature.publish_at = self.future()
                feature.first_published_at = feature.publish_at
            elif state == "published":
                feature.status = Status.PUBLISHED
                feature.publish_at = feature.first_published_at = london(date)
            else:
                feature.status = state
            if index % 3 == 0:
                # Set, not stored: saving the feature cleans it and cuts its renditions.
                feature.hero_image = ContentFile(hero_image(index), name=f"{slug}.jpg")
                feature.hero_image_alt = "An abstract pattern of coloured bands and white rings"
                feature.hero_image_credit = "Newsroom illustration"
            feature.save()
            feature.tags.set(tags)
            for position, author_slug in enumerate(author_slugs):
                author = authors[author_slug]
                Byline.objects.create(feature=feature, author=author, position=position)
            if slug == "leading-on-leadership" and crossword:
                feature.downloads.add(crossword)
            created += 1
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo content ready: {created} new feature{'s' if created != 1 else ''}, "
                f"{Feature.objects.count()} in all."
            )
        )

    @staticmethod
    def future():
        return timezone.now() + timedelta(days=60)

    def keep_in_future(self, feature):
        """The demo's scheduled feature must stay scheduled however old the database is."""
        if feature.status == Status.PUBLISHED and feature.publish_at <= timezone.now():
            feature.publish_at = feature.first_published_at = self.future()
            feature.save(update_fields=["publish_at", "first_published_at"])

    def crossword(self):
        download = Download.objects.filter(slug=demo.CROSSWORD["slug"]).first()
        if download:
            return download
        download = Download(
            slug=demo.CROSSWORD["slug"],
            title=demo.CROSSWORD["title"],
            description=demo.CROSSWORD["description"],
            category=DownloadCategory.CROSSWORD,
            status=Status.PUBLISHED,
            publish_at=london(demo.CROSSWORD["date"]),
        )
        download.file.save("crossword-march-2009.pdf", ContentFile(crossword_pdf()), save=False)
        download.save()
        return download
