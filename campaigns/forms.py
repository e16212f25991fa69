"""Forms of the campaigns portal pages (campaigns list, create wizard, promo page, link
builder) and the admin form of banners."""
import re
import struct

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile

from backoffice.forms import DateRangeFormMixin, FilterDateField
from campaigns.models import Campaign, Landing, Media, Promo
from campaigns.selectors import (
    brands_for_campaigns,
    brands_of_campaigns,
    commission_plans_available,
    commission_plans_used,
    landings_available,
    media_visible,
    traffic_sources_active,
)

# Primary keys are 64-bit; a bigger number cannot name anything.
MAX_ID = 2**63 - 1


class _PlanSelect(forms.Select):
    """Marks each plan option with its brand, so a small script can hide other brands' plans.
    Without the script every plan is listed with its brand in the label."""

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        instance = getattr(value, "instance", None)
        if instance is not None:
            option["attrs"]["data-brand"] = str(instance.brand_id)
        return option


def _plan_label(plan) -> str:
    return f"{plan.name} \u2014 {plan.brand.name}, {plan.currency}"


class CampaignFilterForm(DateRangeFormMixin, forms.Form):
    """Filters of /partner/campaigns. `state` comes from the tabs."""

    date_range = ("created_from", "created_to")

    STATES = (("active", "Active"), ("archived", "Archived"), ("all", "All"))

    state = forms.ChoiceField(choices=STATES, required=False, widget=forms.HiddenInput)
    id = forms.IntegerField(label="ID", required=False, min_value=1, max_value=MAX_ID,
                            widget=forms.NumberInput(attrs={"size": 8}))
    name = forms.CharField(label="Name", required=False, max_length=150)
    brand = forms.ModelChoiceField(label="Brand", queryset=None, required=False, empty_label="All brands")
    commission_plan = forms.ModelChoiceField(label="Commission plan", queryset=None, required=False,
                                             empty_label="All plans")
    created_from = FilterDateField("Created from")
    created_to = FilterDateField("Created to")

    def __init__(self, *args, affiliate, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["brand"].queryset = brands_of_campaigns(affiliate=affiliate)
        self.fields["commission_plan"].queryset = commission_plans_used(affiliate=affiliate)
        self.fields["commission_plan"].label_from_instance = _plan_label
        self.fields["brand"].error_messages["invalid_choice"] = "Choose a brand from the list."
        self.fields["commission_plan"].error_messages["invalid_choice"] = "Choose a commission plan from the list."
        self.fields["state"].error_messages["invalid_choice"] = "Choose the Active, Archived or All tab."

    def clean_name(self):
        return self.cleaned_data["name"].strip()

    def selector_filters(self) -> dict:
        """Keyword arguments of selectors.campaign_list (call after is_valid())."""
        data = self.cleaned_data
        state = data.get("state") or "active"
        return {
            "state": None if state == "all" else state,
            "id": data.get("id"),
            "name": data.get("name") or None,
            "brand": data.get("brand"),
            "commission_plan": data.get("commission_plan"),
            "created_from": data.get("created_from"),
            "created_to": data.get("created_to"),
        }


# The create wizard ------------------------------------------------------------------------

class CampaignStepForm(forms.Form):
    """Step 1: name, brand and a commission plan available to this affiliate for that brand."""

    name = forms.CharField(label="Campaign name", max_length=Campaign._meta.get_field("name").max_length,
                           widget=forms.TextInput(attrs={"autofocus": True}))
    brand = forms.ModelChoiceField(label="Brand", queryset=None, empty_label="Choose a brand")
    commission_plan = forms.ModelChoiceField(
        label="Commission plan", queryset=None, empty_label="Choose a commission plan", widget=_PlanSelect,
        help_text="How you are paid for this campaign. Only one plan applies to a campaign.",
    )

    def __init__(self, *args, affiliate, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["brand"].queryset = brands_for_campaigns(affiliate=affiliate)
        self.fields["commission_plan"].queryset = commission_plans_available(affiliate=affiliate).filter(
            brand__is_active=True
        )
        self.fields["commission_plan"].label_from_instance = _plan_label
        self.fields["brand"].error_messages["invalid_choice"] = (
            "This brand does not take campaigns from you. Choose a brand from the list."
        )
        self.fields["commission_plan"].error_messages["invalid_choice"] = (
            "This commission plan is not available to you. Choose a plan from the list."
        )

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if not name:
            raise ValidationError("Enter the campaign name.")
        return name

    def clean(self):
        cleaned = super().clean()
        brand, plan = cleaned.get("brand"), cleaned.get("commission_plan")
        if brand and plan and plan.brand_id != brand.pk:
            self.add_error("commission_plan", f"\u201c{plan.name}\u201d is a plan of {plan.brand.name}; "
                                              f"choose a plan of {brand.name}.")
        return cleaned


class PromoTargetForm(forms.Form):
    """Step 2: traffic source (optional), target audience and a landing of the brand.

    `audience` comes from the tabs above the landing list; sub-affiliate landings exist only
    under a plan that allows sub-affiliates. `title` is asked when adding a promo.
    """

    title = forms.CharField(label="Promo title", required=False, max_length=Promo._meta.get_field("title").max_length,
                            help_text="Optional; for example the site or placement the link is for.")
    traffic_source = forms.ModelChoiceField(
        label="Traffic source", queryset=None, required=False, empty_label="Not now",
        help_text="Once set, the traffic source of a link cannot be changed. You can leave it "
                  "empty and set it later on the promo page.",
    )
    audience = forms.ChoiceField(choices=Landing.Audience.choices, widget=forms.HiddenInput)
    landing = forms.ModelChoiceField(label="Landing", queryset=None, widget=forms.RadioSelect, empty_label=None)

    def __init__(self, *args, brand, commission_plan, with_title: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.commission_plan = commission_plan
        if not with_title:
            del self.fields["title"]
        self.fields["traffic_source"].queryset = traffic_sources_active()
        self.fields["traffic_source"].error_messages["invalid_choice"] = (
            "This traffic source is not offered. Choose one from the list."
        )
        self.fields["landing"].queryset = landings_available(
            brand=brand, allows_sub_affiliates=commission_plan.allows_sub_affiliates
        )
        self.fields["landing"].label_from_instance = lambda landing: landing.name
        if commission_plan.allows_sub_affiliates:
            invalid = "This landing is not available. Choose one of the landings listed."
        else:
            invalid = (f"This landing is not available: the commission plan \u201c{commission_plan.name}\u201d "
                       "does not allow sub-affiliates. Choose one of the landings for players.")
        # Django %-formats this message with the value: a "%" in a plan's name must be escaped.
        self.fields["landing"].error_messages["invalid_choice"] = invalid.replace("%", "%%")
        self.fields["landing"].error_messages["required"] = "Choose the landing your link sends visitors to."
        self.fields["audience"].error_messages["invalid_choice"] = "Choose Players or Sub-affiliates."

    def landings_for(self, audience: str):
        return [landing for landing in self.fields["landing"].queryset if landing.audience == audience]

    def clean_title(self):
        return self.cleaned_data.get("title", "").strip()

    def clean(self):
        cleaned = super().clean()
        audience, landing = cleaned.get("audience"), cleaned.get("landing")
        if audience and landing and landing.audience != audience:
            wanted = Landing.Audience(audience).label.lower()
            self.add_error("landing", f"\u201c{landing.name}\u201d is not a landing for {wanted}. "
                                      "Choose one of the landings listed.")
        return cleaned


class BannerChoiceForm(forms.Form):
    """Step 3: a banner of the gallery, or "direct" for a direct link without a banner."""

    DIRECT = "direct"

    banner = forms.CharField(max_length=20, error_messages={"required": "Choose a banner or Direct Link."})

    def __init__(self, *args, affiliate, brand, **kwargs):
        super().__init__(*args, **kwargs)
        self.banners = media_visible(affiliate=affiliate, brand=brand)

    def clean_banner(self) -> Media | None:
        value = self.cleaned_data["banner"].strip()
        if value == self.DIRECT:
            return None
        media = None
        if value.isascii() and value.isdigit() and int(value) <= MAX_ID:
            media = self.banners.filter(pk=int(value)).first()
        if media is None:
            raise ValidationError("This banner is not available. Choose a banner of the gallery or Direct Link.")
        return media


def _choices(pairs, empty: str):
    return [("", empty), *pairs]


class MediaFilterForm(forms.Form):
    """The gallery filters: title, language, format, privacy, resolution, tag, orientation."""

    title = forms.CharField(label="Title", required=False, max_length=150)
    language = forms.ChoiceField(label="Language", required=False)
    file_format = forms.ChoiceField(label="Format", required=False,
                                    choices=_choices(Media.Format.choices, "Any format"))
    privacy = forms.ChoiceField(label="Privacy", required=False,
                                choices=_choices([("public", "Public"), ("private", "Private")], "Any"))
    resolution = forms.ChoiceField(label="Resolution", required=False)
    tag = forms.CharField(label="Tag", required=False, max_length=50)
    orientation = forms.ChoiceField(label="Orientation", required=False,
                                    choices=_choices(Media.Orientation.choices, "Any orientation"))

    def __init__(self, *args, media, **kwargs):
        super().__init__(*args, **kwargs)
        languages = sorted({lang.lower() for lang in media.values_list("language", flat=True)})
        self.fields["language"].choices = _choices([(lang, lang) for lang in languages], "Any language")
        sizes = sorted(set(media.values_list("width", "height")))
        self.fields["resolution"].choices = _choices([(f"{w}x{h}", f"{w}\u00d7{h}") for w, h in sizes],
                                                     "Any resolution")

    def clean_title(self):
        return self.cleaned_data["title"].strip()

    def clean_tag(self):
        return self.cleaned_data["tag"].strip()

    def selector_filters(self) -> dict:
        return {k: v for k, v in self.cleaned_data.items() if v}


# The promo page ---------------------------------------------------------------------------

class PromoEditForm(forms.Form):
    """Title, promo code, and the traffic source while the promo has none."""

    title = forms.CharField(label="Title", max_length=Promo._meta.get_field("title").max_length)
    traffic_source = forms.ModelChoiceField(
        label="Traffic source", queryset=None, required=False, empty_label="Not set",
        help_text="Once set, it cannot be changed.",
    )
    promo_code = forms.CharField(
        label="Promo code", required=False, max_length=Promo._meta.get_field("promo_code").max_length,
        help_text="Optional bonus code players enter at sign-up; unique within the brand.",
    )

    def __init__(self, *args, promo: Promo, **kwargs):
        kwargs.setdefault("initial", {"title": promo.title, "promo_code": promo.promo_code,
                                      "traffic_source": promo.traffic_source_id})
        super().__init__(*args, **kwargs)
        if promo.traffic_source_id is not None:
            # Shown as text on the page; never sent back, so never changed here.
            del self.fields["traffic_source"]
        else:
            self.fields["traffic_source"].queryset = traffic_sources_active()
            self.fields["traffic_source"].error_messages["invalid_choice"] = (
                "This traffic source is not offered. Choose one from the list."
            )

    def clean_title(self):
        title = self.cleaned_data["title"].strip()
        if not title:
            raise ValidationError("Enter the promo title.")
        return title

    def clean_promo_code(self):
        code = self.cleaned_data["promo_code"].strip()
        if code and not re.fullmatch(r"[A-Za-z0-9_\-]+", code):
            raise ValidationError("Use letters, digits, - and _ only.")
        return code


PARAM_NAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")
LINK_BUILDER_ROWS = 5


class LinkBuilderForm(forms.Form):
    """Rows of custom parameter name/value appended to the tracking link (a GET form)."""

    def __init__(self, *args, reserved: tuple[str, ...] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.reserved = reserved
        for i in range(LINK_BUILDER_ROWS):
            self.fields[f"name_{i}"] = forms.CharField(
                label=f"Parameter {i + 1} name", required=False, max_length=64,
                widget=forms.TextInput(attrs={"placeholder": "sub_id" if i == 0 else "click_id" if i == 1 else ""}),
            )
            self.fields[f"value_{i}"] = forms.CharField(
                label=f"Parameter {i + 1} value", required=False, max_length=200,
                widget=forms.TextInput(attrs={"placeholder": "{your tracker's macro}" if i < 2 else ""}),
            )

    def rows(self):
        return [(self[f"name_{i}"], self[f"value_{i}"]) for i in range(LINK_BUILDER_ROWS)]

    def clean(self):
        cleaned = super().clean()
        seen = set()
        for i in range(LINK_BUILDER_ROWS):
            name = (cleaned.get(f"name_{i}") or "").strip()
            value = (cleaned.get(f"value_{i}") or "").strip()
            if not name:
                if value:
                    self.add_error(f"name_{i}", "Enter the parameter name for this value.")
                continue
            if not PARAM_NAME_RE.fullmatch(name):
                self.add_error(f"name_{i}", "Start with a letter; use letters, digits and _ only (64 at most).")
            elif name in self.reserved:
                self.add_error(f"name_{i}", f"\u201c{name}\u201d is used by the tracking itself; choose another name.")
            elif name in seen:
                self.add_error(f"name_{i}", f"\u201c{name}\u201d is already in the list.")
            seen.add(name)
        return cleaned

    def params(self) -> dict[str, str]:
        """The parameters in row order (call after is_valid())."""
        params = {}
        for i in range(LINK_BUILDER_ROWS):
            name = (self.cleaned_data.get(f"name_{i}") or "").strip()
            if name:
                params[name] = (self.cleaned_data.get(f"value_{i}") or "").strip()
        return params


# Admin: banners -----------------------------------------------------------------------------

MEDIA_MAX_BYTES = 5 * 1024 * 1024
HEADER_BYTES = 64 * 1024


def image_info(head: bytes) -> tuple[str, int | None, int | None]:
    """(format, width, height) from the first bytes of an image file, without Pillow.

    Width and height are read for PNG, GIF and baseline/progressive JPEG; for WebP only the
    format is told (None sizes). ("", None, None) when the bytes are none of these (SVG
    included: it can carry script, and banners are served from our own origin).
    """
    if head.startswith(b"\x89PNG\r\n\x1a\n") and head[12:16] == b"IHDR" and len(head) >= 24:
        width, height = struct.unpack(">II", head[16:24])
        return Media.Format.PNG, width, height
    if head[:6] in (b"GIF87a", b"GIF89a") and len(head) >= 10:
        width, height = struct.unpack("<HH", head[6:10])
        return Media.Format.GIF, width, height
    if head.startswith(b"\xff\xd8"):
        return (Media.Format.JPG, *_jpeg_size(head))
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return Media.Format.WEBP, None, None
    return "", None, None


# Start-of-frame markers carry the size; C4 (DHT), C8 (JPG) and CC (DAC) do not.
_JPEG_SOF = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}


def _jpeg_size(data: bytes) -> tuple[int | None, int | None]:
    i = 2
    while i + 4 <= len(data):
        if data[i] != 0xFF:
            return None, None
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:  # no length
            i += 2
            continue
        (length,) = struct.unpack(">H", data[i + 2:i + 4])
        if marker in _JPEG_SOF:
            if i + 9 > len(data):
                return None, None
            height, width = struct.unpack(">HH", data[i + 5:i + 9])
            return width, height
        i += 2 + length
    return None, None


def orientation_of(width: int, height: int) -> str:
    if width > height:
        return Media.Orientation.HORIZONTAL
    if height > width:
        return Media.Orientation.VERTICAL
    return Media.Orientation.SQUARE


class MediaAdminForm(forms.ModelForm):
    """Format, width, height and orientation may be left blank: they are read from the file
    (PNG, GIF, JPEG). For other files they must be filled in."""

    class Meta:
        model = Media
        fields = ("brand", "title", "language", "file", "file_format", "width", "height", "orientation",
                  "tags", "privacy", "affiliates", "is_active")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name in ("file_format", "width", "height", "orientation"):
            self.fields[name].required = False
            self.fields[name].help_text = "Leave blank to read it from a PNG, GIF or JPEG file."

    def clean_file(self):
        upload = self.cleaned_data.get("file")
        if upload and getattr(upload, "size", 0) > MEDIA_MAX_BYTES:
            raise ValidationError(f"The file is larger than {MEDIA_MAX_BYTES // (1024 * 1024)} MB.")
        return upload

    def clean(self):
        cleaned = super().clean()
        upload = cleaned.get("file")
        detected, width, height = "", None, None
        if isinstance(upload, UploadedFile):  # a new file (not the one already stored)
            upload.seek(0)
            head = upload.read(HEADER_BYTES)
            upload.seek(0)
            detected, width, height = image_info(head)
            if not detected:
                self.add_error("file", "This is not a PNG, JPG, GIF or WebP image (SVG is not accepted: it can carry script).")
                return cleaned
        if not cleaned.get("file_format"):
            if detected:
                cleaned["file_format"] = detected
            else:
                self.add_error("file_format", "Choose the file format.")
        elif detected and cleaned["file_format"] != detected:
            self.add_error("file_format", f"The file is a {detected.upper()} image; choose {detected.upper()}.")
        for name, value in (("width", width), ("height", height)):
            if not cleaned.get(name):
                if value:
                    cleaned[name] = value
                else:
                    self.add_error(name, f"Enter the {name} in pixels (it cannot be read from this file).")
        if not cleaned.get("orientation") and cleaned.get("width") and cleaned.get("height"):
            cleaned["orientation"] = orientation_of(cleaned["width"], cleaned["height"])
        return cleaned
