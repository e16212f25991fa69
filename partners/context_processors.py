from django.conf import settings


def portal(request):
    return {"program_name": settings.PROGRAM_NAME}
