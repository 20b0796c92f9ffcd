"""Azure OpenAI and Gemini's OpenAI-compatible endpoint, configured by `api:` alone."""

from __future__ import annotations

import openai

from sidecar.emulators.openai import Fault, OpenAIEmulator
from tests.conftest import APP_KEY, HarnessFactory
from tests.test_routing import EMAIL


async def test_azure_openai_deployment_path_version_and_key(make_harness: HarnessFactory) -> None:
    azure = OpenAIEmulator(
        "azure", "azure-key-123", base_path="/openai/deployments/gpt4o-prod", azure=True
    )
    gemini = OpenAIEmulator("gemini", "gemini-key-456", base_path="/v1beta/openai")
    async with azure, gemini:
        root = azure.base_url.split("/openai/")[0]
        h = await make_harness(
            providers={
                "azure": {
                    "api": "azure_openai",
                    "kind": "direct",
                    "base_url": root,
                    "api_version": "2024-10-21",
                    "api_key_env": "AZ_KEY",
                    "compliance": {"dpa": True, "regions": ["eu"]},
                },
                "gemini": {
                    "api": "openai",
                    "kind": "direct",
                    "base_url": gemini.base_url,
                    "api_key_env": "GM_KEY",
                    "compliance": {"dpa": True},
                },
            },
            models={
                "chat": {
                    "routes": [
                        {"provider": "azure", "model": "gpt4o-prod"},
                        {"provider": "gemini", "model": "gemini-2.5-flash"},
                    ]
                }
            },
            environ={"AZ_KEY": "azure-key-123", "GM_KEY": "gemini-key-456"},
        )
        done = await h.client.chat.completions.create(
            model="chat", messages=[{"role": "user", "content": f"to {EMAIL}"}]
        )
        assert "served by azure" in (done.choices[0].message.content or "")
        [request] = azure.received
        assert request.path == "/openai/deployments/gpt4o-prod/chat/completions"
        assert request.query == {"api-version": "2024-10-21"}
        headers = {k.lower(): v for k, v in request.headers.items()}
        assert headers["api-key"] == "azure-key-123" and "authorization" not in headers
        azure.fail_always = Fault(kind="status", status=503)
        client = openai.AsyncOpenAI(base_url=h.base_url, api_key=APP_KEY, max_retries=0)
        again = await client.chat.completions.create(
            model="chat", messages=[{"role": "user", "content": "hi"}]
        )
        await client.close()
        assert "served by gemini" in (again.choices[0].message.content or "")
        [g] = gemini.received
        assert g.path == "/v1beta/openai/chat/completions"
        assert {k.lower(): v for k, v in g.headers.items()}[
            "authorization"
        ] == "Bearer gemini-key-456"
