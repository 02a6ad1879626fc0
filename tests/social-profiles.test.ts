import { describe, expect, test } from "bun:test";
import { socialDefinitions } from "../src/providers/social-definitions.ts";

// Each provider's profile answer, shaped as its documentation shows it, read
// into our normalised profile. The providers without a fake server of their
// own (tests/support/fake-social-providers.ts) are covered here.

describe("profile answers become normalised profiles", () => {
  test("Discord: the user inside /oauth2/@me, its verified flag and CDN avatar", () => {
    const profile = socialDefinitions.discord.profile({
      application: { id: "app" },
      user: {
        id: "80351110224678912",
        username: "nelly",
        global_name: "Nelly",
        avatar: "8342729096ea3675442027381ff50dfe",
        email: "nelly@discord.example",
        verified: true,
      },
    });
    expect(profile).toEqual({
      providerUserId: "80351110224678912",
      email: "nelly@discord.example",
      emailVerified: true,
      fullName: "Nelly",
      avatarUrl:
        "https://cdn.discordapp.com/avatars/80351110224678912/8342729096ea3675442027381ff50dfe.png",
    });
  });

  test("Twitch: the first user of `data`, its email never counted as verified", () => {
    const profile = socialDefinitions.twitch.profile({
      data: [
        {
          id: "141981764",
          login: "twitchdev",
          display_name: "TwitchDev",
          email: "dev@twitch.example",
          profile_image_url: "https://static-cdn.jtvnw.net/x.png",
        },
      ],
    });
    expect(profile).toMatchObject({
      providerUserId: "141981764",
      email: "dev@twitch.example",
      emailVerified: false,
      fullName: "TwitchDev",
    });
  });

  test("Microsoft Graph: `mail` is kept but never verified (the nOAuth takeover)", () => {
    const profile = socialDefinitions.msentra.profile({
      id: "87d349ed-44d7-43e1-9a83-5f2406dee5bd",
      displayName: "Adele Vance",
      mail: "AdeleV@contoso.example",
      userPrincipalName: "AdeleV@contoso.example",
    });
    expect(profile).toEqual({
      providerUserId: "87d349ed-44d7-43e1-9a83-5f2406dee5bd",
      email: "AdeleV@contoso.example",
      emailVerified: false,
      fullName: "Adele Vance",
      avatarUrl: null,
    });
  });

  test("Facebook, LinkedIn and X read their own shapes", () => {
    expect(
      socialDefinitions.facebook.profile({
        id: "10224",
        name: "Fay Book",
        email: "fay@fb.example",
        picture: { data: { url: "https://platform-lookaside.fbsbx.com/p.jpg" } },
      }),
    ).toMatchObject({ providerUserId: "10224", emailVerified: false, fullName: "Fay Book" });
    expect(
      socialDefinitions.linkedin.profile({
        sub: "782bbtaQ",
        name: "Lin Ked",
        email: "lin@li.example",
        email_verified: true,
      }),
    ).toMatchObject({ providerUserId: "782bbtaQ", email: "lin@li.example", emailVerified: true });
    expect(
      socialDefinitions.x.profile({ data: { id: "2244994945", name: "X Dev", username: "xdev" } }),
    ).toMatchObject({ providerUserId: "2244994945", email: null, fullName: "X Dev" });
  });

  test("an answer without an id is refused, not read as someone", () => {
    expect(() => socialDefinitions.twitch.profile({ data: [] })).toThrow();
    expect(() => socialDefinitions.discord.profile({ user: { username: "no-id" } })).toThrow();
    expect(() => socialDefinitions.msentra.profile({ displayName: "Nobody" })).toThrow();
  });

  test("a javascript: avatar and an address without @ are dropped", () => {
    const profile = socialDefinitions.linkedin.profile({
      sub: "s",
      email: "not-an-address",
      email_verified: true,
      picture: "javascript:alert(1)",
    });
    expect(profile).toMatchObject({ email: null, emailVerified: false, avatarUrl: null });
  });
});
